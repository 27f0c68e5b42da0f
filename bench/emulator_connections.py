"""The emulator's HTTP cost per request with and without connection reuse.

Starts a moto launcher (infra/local/moto_server.py by default, or the one given
with --launcher, e.g. an older revision's), sends it DynamoDB GetItem requests
from a few client threads — each either on one kept-alive connection or on a
new connection per request, as the launcher allows — and prints requests per
second and the launcher's own CPU per request (from /proc). Medians over --runs.

Run as: .venv/bin/python bench/emulator_connections.py [--launcher PATH] [--runs 5]
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LAUNCHER = os.path.join(HERE, "..", "infra", "local", "moto_server.py")
AUTH = "AWS4-HMAC-SHA256 Credential=test/20261203/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=x"


def start(launcher):
    proc = subprocess.Popen(
        [sys.executable, launcher, "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = proc.stdout.readline()
    if not line.startswith("moto listening on "):
        proc.kill()
        sys.exit(f"the launcher did not start: {line!r}")
    host, port = line.split()[-1].rsplit(":", 1)
    return proc, host, int(port)


def call(conn, target, body):
    conn.request(
        "POST",
        "/",
        body=json.dumps(body),
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target, "Authorization": AUTH},
    )
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        raise RuntimeError(f"{target}: {answer.status}")
    return answer


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(host, port, requests, connects):
    conn = http.client.HTTPConnection(host, port)
    for _ in range(requests):
        if conn.sock is None:
            connects.append(1)
        answer = call(conn, "DynamoDB_20120810.GetItem", {"TableName": "bench", "Key": {"pk": {"S": "k"}}})
        if answer.getheader("Connection", "").lower() == "close":
            conn.close()
    conn.close()


def run(launcher, threads, requests):
    proc, host, port = start(launcher)
    try:
        setup = http.client.HTTPConnection(host, port)
        call(
            setup,
            "DynamoDB_20120810.CreateTable",
            {
                "TableName": "bench",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        setup.close()
        connects = []
        cpu_before, started = cpu_seconds(proc.pid), time.perf_counter()
        workers = [threading.Thread(target=client, args=(host, port, requests, connects)) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu_before
        total = threads * requests
        return total / wall, cpu / total * 1e6, len(connects) / total
    finally:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launcher", action="append", help="a launcher to measure (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=500, help="per client thread")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.threads} clients x {args.requests} GetItem; medians of {args.runs} runs")
    print("| launcher | requests/s | emulator CPU / request (µs) | connections / request |")
    print("|---|---|---|---|")
    for launcher in args.launcher or [DEFAULT_LAUNCHER]:
        runs = [run(launcher, args.threads, args.requests) for _ in range(args.runs)]
        rps, cpu, conns = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"| {os.path.relpath(launcher)} | {rps:.0f} | {cpu:.0f} | {conns:.2f} |")


if __name__ == "__main__":
    main()
