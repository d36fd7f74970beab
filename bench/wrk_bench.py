#!/usr/bin/env python3
"""The driver of bench/run (which builds the binaries first): servers up, signed requests, wrk rounds.

Each round measures every target once at 1 connection and once at 16, in the same order, so the ceiling,
Coffer and moto_server share whatever the machine did in that round. A request is signed again before
each measurement (SigV4 accepts a signature for 15 minutes; wrk replays one request for --duration
seconds). Every response must be 200: wrk counts other statuses, and a measurement with any is reported
as failed, not as a speed.
"""
import argparse
import base64
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials

parser = argparse.ArgumentParser()
parser.add_argument("--coffer", required=True)
parser.add_argument("--ceiling", required=True)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--duration", type=int, default=10)
parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json"))
args = parser.parse_args()

REGION = "us-east-1"
LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""
work = tempfile.mkdtemp(prefix="coffer-bench-")
processes = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(command, pattern, name, timeout=60):
    """Starts `command` with its output in a log and waits for `pattern` in it; fails loudly if it doesn't come."""
    log_path = os.path.join(work, name + ".log")
    log = open(log_path, "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    processes.append(process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = open(log_path, errors="replace").read()
        match = re.search(pattern, text, re.M)
        if match:
            return match
        if process.poll() is not None:
            sys.exit("bench: %s exited before serving:\n%s" % (name, text))
        time.sleep(0.05)
    sys.exit("bench: %s did not come up within %ss:\n%s" % (name, timeout, open(log_path).read()))


def stop_all():
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


class Target:
    """A server and a signed KMS request to replay against it."""

    def __init__(self, name, endpoint, operation, body, access_key, secret_key):
        self.name, self.endpoint, self.operation, self.body = name, endpoint, operation, body
        self.credentials = botocore.credentials.Credentials(access_key, secret_key)

    def script(self):
        """A wrk script replaying this request, freshly signed."""
        if self.operation:
            request = botocore.awsrequest.AWSRequest(
                method="POST", url=self.endpoint + "/", data=self.body.encode(),
                headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService." + self.operation})
            botocore.auth.SigV4Auth(self.credentials, "kms", REGION).add_auth(request)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        else:
            headers = {"Content-Type": "application/x-amz-json-1.1"}
        lines = ['wrk.method = "POST"', "wrk.body = %s" % json.dumps(self.body)]
        lines += ["wrk.headers[%s] = %s" % (json.dumps(k), json.dumps(v)) for k, v in headers.items()]
        path = os.path.join(work, "%s.lua" % re.sub(r"\W", "_", self.name))
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n" + LUA_DONE)
        return path

    def measure(self, connections):
        threads = min(2, connections)
        done = subprocess.run(
            ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % args.duration, "--timeout", "5s",
             "-s", self.script(), self.endpoint + "/"], capture_output=True, text=True, timeout=args.duration + 60)
        match = re.search(r"^RESULT (\{.*\})$", done.stdout, re.M)
        if not match:
            sys.exit("bench: wrk printed no result for %s:\n%s%s" % (self.name, done.stdout, done.stderr))
        result = json.loads(match.group(1))
        seconds = result["duration_us"] / 1e6
        return {
            "rps": result["requests"] / seconds, "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "requests": result["requests"], "failed": result["non2xx"] + result["socket_errors"],
        }


def client(endpoint, access_key, secret_key):
    return boto3.client("kms", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key)


def kms_targets(prefix, endpoint, access_key, secret_key):
    kms = client(endpoint, access_key, secret_key)
    key = kms.create_key(Description="bench")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x" * 32)["CiphertextBlob"]
    return [
        Target(prefix + " GenerateDataKey", endpoint, "GenerateDataKey",
               json.dumps({"KeyId": key, "KeySpec": "AES_256"}), access_key, secret_key),
        Target(prefix + " Encrypt", endpoint, "Encrypt",
               json.dumps({"KeyId": key, "Plaintext": base64.b64encode(b"x" * 32).decode()}), access_key, secret_key),
        Target(prefix + " Decrypt", endpoint, "Decrypt",
               json.dumps({"CiphertextBlob": base64.b64encode(blob).decode()}), access_key, secret_key),
    ]


def machine():
    model = ""
    try:
        model = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "wrk": (wrk.stdout + wrk.stderr).split("\n")[0].strip()}


try:
    exports = spawn([args.coffer, "dev", "--ephemeral", "--port", "0", "--log-level", "error"],
                    r"^export (.*AWS_ENDPOINT_URL_KMS=\S+)$", "coffer").group(1)
    env = dict(item.split("=", 1) for item in exports.split())
    coffer = env["AWS_ENDPOINT_URL_KMS"]
    ceiling_port = spawn([args.ceiling, "--port", "0"], r"listening on 127\.0\.0\.1:(\d+)", "ceiling").group(1)
    targets = [Target("ceiling (bare Hummingbird route)", "http://127.0.0.1:%s" % ceiling_port, None,
                      json.dumps({"KeyId": "ceiling"}), "x", "x")]
    targets += kms_targets("coffer", coffer, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    moto = None
    try:
        moto_port = free_port()
        spawn(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], r"Running on", "moto")
        moto = "http://127.0.0.1:%d" % moto_port
        targets += [t for t in kms_targets("moto_server", moto, "testing", "testing") if "GenerateDataKey" in t.name]
    except (FileNotFoundError, SystemExit) as error:
        print("bench: moto_server not measured (%s)" % error)

    rounds = []
    for number in range(1, args.rounds + 1):
        results = {}
        for connections in (1, 16):
            for target in targets:
                results["%s @%d" % (target.name, connections)] = target.measure(connections)
        rounds.append(results)
        print("round %d of %d" % (number, args.rounds), flush=True)
finally:
    stop_all()

names = list(rounds[0])
print("\n%-44s %s" % ("target @connections", "  ".join("%28s" % ("round %d: req/s p50 p99 ms" % (i + 1))
                                                       for i in range(len(rounds)))))
for name in names:
    cells = []
    for results in rounds:
        r = results[name]
        cell = "%7.0f %6.2f %6.2f" % (r["rps"], r["p50_ms"], r["p99_ms"])
        cells.append("%28s" % (cell + (" FAILED %d" % r["failed"] if r["failed"] else "")))
    print("%-44s %s" % (name, "  ".join(cells)))


def ratio(numerator, denominator, field):
    values = [results[numerator][field] / results[denominator][field] for results in rounds
              if denominator in results and results[denominator][field] > 0]
    return [round(v, 3) for v in values]


ceiling = targets[0].name
ratios = {
    "coffer GenerateDataKey / ceiling, req/s @16": ratio("coffer GenerateDataKey @16", ceiling + " @16", "rps"),
    "coffer GenerateDataKey / ceiling, p50 @1": ratio("coffer GenerateDataKey @1", ceiling + " @1", "p50_ms"),
    "coffer Encrypt / GenerateDataKey, req/s @16": ratio("coffer Encrypt @16", "coffer GenerateDataKey @16", "rps"),
    "coffer Decrypt / GenerateDataKey, req/s @16": ratio("coffer Decrypt @16", "coffer GenerateDataKey @16", "rps"),
}
if moto:
    ratios["coffer GenerateDataKey / moto_server, req/s @16"] = ratio(
        "coffer GenerateDataKey @16", "moto_server GenerateDataKey @16", "rps")
print()
for name, values in ratios.items():
    print("%-50s %s" % (name, "  ".join("%.2f" % v for v in values)))
failed = sum(r["failed"] for results in rounds for r in results.values())
report = {"machine": machine(), "duration_s": args.duration, "rounds": rounds, "ratios": ratios, "failed": failed,
          "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
os.makedirs(os.path.dirname(args.out), exist_ok=True)
with open(args.out, "w") as handle:
    json.dump(report, handle, indent=1)
print("\nwritten to %s; %s" % (args.out, json.dumps(report["machine"])))
if failed:
    sys.exit("bench: %d requests did not answer 200" % failed)
