"""Cold init of one function binary against a minimal Lambda Runtime API.

Starts the binary N times (one at a time) with a Runtime API that records when the
process first asks for work (`GET .../invocation/next`) and never answers it, and
prints the median of process start → first `/next` (wall) and the process's CPU
time by then (all its threads, from /proc/<pid>/task/*/schedstat). With the kit's
`init` log line it also prints the median of each phase the kit timed. No AWS
call is made during init, so no emulator is needed.

Run as:
  .venv/bin/python bench/init_profile.py target/release/record-login --runs 20 \\
      --env ACTIVITY_TABLE_NAME=t --env DEAD_LETTER_QUEUE_URL=http://q
"""

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
    "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
    "AWS_REGION": "eu-west-2",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


class RuntimeApi(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, event=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.asked = threading.Event()
        self.asked_at = 0
        # The event to hand out on the next /next (None: hold the request, as for init only).
        self.event = event
        self.pending = None
        self.runs = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's naming
        if not self.path.endswith("/invocation/next"):
            return
        if self.server.event is None or self.server.pending is None:
            self.server.asked_at = time.perf_counter_ns()
            self.server.asked.set()
            time.sleep(3600)  # the process is killed before an answer is due
            return
        body, self.server.pending = self.server.pending, None
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"bench-{self.server.runs}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-2:123456789012:function:bench")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if self.path.endswith("/response") or self.path.endswith("/error"):
            self.server.answered = self.path.rsplit("/", 1)[1]
            self.server.asked_at = time.perf_counter_ns()
            self.server.asked.set()

    def log_message(self, *args):
        pass


def cpu_ns(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def one(binary, env, api):
    api.asked.clear()
    if api.event is not None:
        api.runs += 1
        api.pending = api.event.replace("{n}", f"{os.getpid()}-{time.time_ns()}").encode()
    started = time.perf_counter_ns()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if not api.asked.wait(10):
            proc.kill()
            sys.exit(f"{binary} did not reach /next in 10 s: {proc.communicate()[0][-2000:]}")
        wall = (api.asked_at - started) / 1e6
        cpu = cpu_ns(proc.pid) / 1e6
    finally:
        proc.kill()
    out = proc.communicate()[0]
    phases = {}
    for line in out.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "init":
            phases = {k.removesuffix("_us"): v / 1000 for k, v in entry.items() if k.endswith("_us")}
    return wall, cpu, phases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the function's configuration")
    parser.add_argument("--event", help="answer the first /next with this event file ({n}: a new id each run)")
    args = parser.parse_args()
    event = open(args.event).read() if args.event else None
    api = RuntimeApi(event)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = {"PATH": os.environ.get("PATH", ""), **LAMBDA_ENV, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_port}"}
    env.update(kv.split("=", 1) for kv in args.env)
    one(args.binary, env, api)  # page cache warm, as on a reused Lambda host
    runs = [one(args.binary, env, api) for _ in range(args.runs)]
    print(f"{os.path.basename(args.binary)}: {args.runs} cold starts, load average {os.getloadavg()[0]:.2f}")
    what = "the first answer" if event else "first /next"
    if event:
        print(f"  answered with /{getattr(api, 'answered', '?')}")
    print(f"  process start -> {what}: median {statistics.median(r[0] for r in runs):.2f} ms "
          f"(min {min(r[0] for r in runs):.2f}, max {max(r[0] for r in runs):.2f})")
    print(f"  CPU by then: median {statistics.median(r[1] for r in runs):.2f} ms")
    names = [k for k in runs[-1][2]]
    for name in names:
        values = [r[2][name] for r in runs if name in r[2]]
        print(f"  {name}: median {statistics.median(values):.3f} ms")


if __name__ == "__main__":
    main()
