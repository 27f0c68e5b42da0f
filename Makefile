# Two commands on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
AWS_REGION ?= eu-west-2
LOCAL_JWT_SECRET ?= local-dev-secret-change-me
# Seed 003: how long after a call its recording may still arrive (the demo waits it out).
RECORDING_GRACE_SECONDS ?= 20
CARGO ?= cargo
export AWS_REGION LOCAL_JWT_SECRET

LOCAL_STACK := target/debug/local-stack
# Every function binary the template deploys (its BuildProperties.Binary).
FUNCTIONS := $(shell grep -h "Binary:" infra/template.yaml | awk '{print $$2}')

.PHONY: help venv build run stop token test lint fmt bench arm64 package deploy clean ops graph chaos fuzz contacts-load

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV_STAMP): infra/local/requirements.txt infra/local/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt -c infra/local/requirements.lock
	@touch $@

venv: $(VENV_STAMP) ## Install the pinned emulator and linters into ./.venv

build: ## Build every binary (debug)
	$(CARGO) build --workspace --bins

run: venv build ## Start the local stack, play the sample events, serve until Ctrl-C
	$(LOCAL_STACK) up --demo events/demo.json --param RecordingGraceSeconds=$(RECORDING_GRACE_SECONDS)

stop: ## Stop a local stack started elsewhere
	@$(LOCAL_STACK) stop

token: build ## Print a local API token: make token USER=<user id>
ifneq ($(origin USER),command line)
	$(error say whose token: make token USER=<user id>)
endif
	@$(LOCAL_STACK) token --user "$(USER)"

# The binary `make run` built: `cargo run -p ops` alone would build ops's dependencies
# again with other features (about four minutes); with the workspace's it is a no-op.
ops: ## Run the ops tool against the local stack: make ops ARGS="dlq list"
	@$(CARGO) build -q --workspace --bins
	@AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	  target/debug/ops $(ARGS)

chaos: venv build ## 1,000 report workflows, flaky providers, 5 runner kills; writes docs/reliability.md
	$(CARGO) run -q -p integration-tests --bin chaos -- --workflows $${WORKFLOWS:-1000} --kills $${KILLS:-5} --out docs/reliability.md

contacts-load: venv build ## Seed 003 under load: 2,000 calls in progress, Connect's DescribeContact quota enforced; writes its section of docs/benchmarks.md (about an hour)
	$(CARGO) run -q -p integration-tests --bin contacts_load -- --out docs/benchmarks.md $(CONTACTS_LOAD_ARGS)

fuzz: ## Property-fuzz every parser of outside input, long (PROPTEST_CASES, default 100000 each)
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} $(CARGO) test --release -p fuzz

graph: ## Regenerate the topology diagram in docs/topology.md from the template
	$(CARGO) build -q --workspace --bins && target/debug/ops graph --write docs/topology.md

test: venv ## Lint the template, build once, run every test (IAM enforced; target/iam-coverage.md), then clippy
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(VENV)/bin/python infra/local/check_moto_server.py
	$(CARGO) fmt --all -- --check
	$(CARGO) build --workspace --bins
	rm -rf target/iam-ledger
	LOCAL_STACK_IAM_LEDGER_DIR=$(CURDIR)/target/iam-ledger $(CARGO) test --workspace --no-fail-fast
	$(CARGO) run -q -p integration-tests --bin iam_coverage -- target/iam-ledger target/iam-coverage.md
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint: venv ## cfn-lint, rustfmt, clippy
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

ARM64 := aarch64-unknown-linux-gnu
ARM64_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

bench: venv ## Measure the kit, the pipelines and every function; writes docs/benchmarks.md (BENCH_ARGS=--save-baseline at a release)
	$(CARGO) build --release --workspace --bins
	@if command -v aarch64-linux-gnu-gcc >/dev/null && rustup target list --installed 2>/dev/null | grep -q $(ARM64); then \
	  $(MAKE) --no-print-directory arm64; \
	else echo "bench: no arm64 cross toolchain; sizes are for the host only (see make arm64)"; fi
	$(CARGO) build --workspace --bins
	$(CARGO) run --release -p bench -- --out docs/benchmarks.md $(BENCH_ARGS)

arm64: ## Release function binaries for Lambda's arm64 (needs: rustup target add $(ARM64); apt install gcc-aarch64-linux-gnu)
	$(ARM64_ENV) $(CARGO) build --release --target $(ARM64) $(foreach f,$(FUNCTIONS),-p $(f))

package: ## Release bootstrap zips per function in target/lambda/ (host architecture)
	$(CARGO) build --release $(foreach f,$(FUNCTIONS),-p $(f))
	@for f in $(FUNCTIONS); do \
	  mkdir -p target/lambda/$$f && cp target/release/$$f target/lambda/$$f/bootstrap && \
	  (cd target/lambda/$$f && rm -f ../$$f.zip && zip -q -9 ../$$f.zip bootstrap) && \
	  echo "target/lambda/$$f.zip $$(stat -c %s target/lambda/$$f.zip) bytes"; \
	done

deploy: ## Build with SAM (needs sam and cargo-lambda) and deploy
	cd infra && sam build --beta-features && sam deploy --guided

clean: ## Remove build output and the venv
	$(CARGO) clean
	rm -rf $(VENV) .local
