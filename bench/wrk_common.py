"""What bench/run and bench/exhaustion share: starting servers and stopping them, SigV4-signed requests
replayed by wrk, and the machine's description."""
import base64
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials

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
#: How long each wrk measurement runs (bench/run --duration sets it).
duration = 10
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

    def __init__(self, name, endpoint, operation, body, access_key, secret_key, pid=None):
        self.name, self.endpoint, self.operation, self.body = name, endpoint, operation, body
        self.credentials = botocore.credentials.Credentials(access_key, secret_key)
        #: The server's process, whose CPU time per request is measured beside the rate (None: not measured).
        self.pid = pid

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
        cpu_before = process_cpu_seconds(self.pid)
        with StolenTime() as stolen:
            done = subprocess.run(
                ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration, "--timeout", "5s",
                 "-s", self.script(), self.endpoint + "/"], capture_output=True, text=True, timeout=duration + 60)
        match = re.search(r"^RESULT (\{.*\})$", done.stdout, re.M)
        if not match:
            sys.exit("bench: wrk printed no result for %s:\n%s%s" % (self.name, done.stdout, done.stderr))
        result = json.loads(match.group(1))
        seconds = result["duration_us"] / 1e6
        measured = {
            "rps": result["requests"] / seconds, "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "requests": result["requests"], "failed": result["non2xx"] + result["socket_errors"],
            "stolen_ms": stolen.total_ms, "stolen_max_ms": stolen.max_ms,
        }
        if cpu_before is not None and result["requests"]:
            cpu = process_cpu_seconds(self.pid) - cpu_before
            measured["server_cpu_us_per_request"] = cpu * 1e6 / result["requests"]
        return measured


def process_cpu_seconds(pid):
    """User and system CPU time of process `pid` and all its threads so far (None without a pid). Unlike
    requests/s it does not count time the hypervisor took from the machine, so it compares code more
    steadily on a noisy virtual machine: what the server spends per request, whoever else runs."""
    if pid is None:
        return None
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StolenTime:
    """CPU time the hypervisor took from this virtual machine while the block ran (`steal` in /proc/stat):
    in all, and the most within one 100 ms window. wrk's p99 corrects for coordinated omission, so one
    100 ms pause of a virtual CPU, which no program inside the machine can prevent, moves a p99 measured at
    one connection by tens of milliseconds; the tables print it beside each measurement."""

    TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def read():
        with open("/proc/stat") as handle:
            return int(handle.readline().split()[8])

    def __enter__(self):
        self.first = self.last = self.read()
        self.max_ms = 0
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            time.sleep(0.1)
            now = self.read()
            self.max_ms = max(self.max_ms, (now - self.last) * self.TICK_MS)
            self.last = now

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.total_ms = (self.read() - self.first) * self.TICK_MS
        return False


def client(endpoint, access_key, secret_key):
    return boto3.client("kms", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key)


def kms_targets(prefix, endpoint, access_key, secret_key, pid=None):
    kms = client(endpoint, access_key, secret_key)
    key = kms.create_key(Description="bench")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x" * 32)["CiphertextBlob"]
    return [
        Target(prefix + " GenerateDataKey", endpoint, "GenerateDataKey",
               json.dumps({"KeyId": key, "KeySpec": "AES_256"}), access_key, secret_key, pid),
        Target(prefix + " Encrypt", endpoint, "Encrypt",
               json.dumps({"KeyId": key, "Plaintext": base64.b64encode(b"x" * 32).decode()}), access_key, secret_key,
               pid),
        Target(prefix + " Decrypt", endpoint, "Decrypt",
               json.dumps({"CiphertextBlob": base64.b64encode(blob).decode()}), access_key, secret_key, pid),
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


def print_table(rounds, names, width):
    """One row per measurement: requests/s, p50 and p99 of each round side by side, and the most CPU time
    the hypervisor took within 100 ms while it ran (StolenTime)."""
    print("\n%-*s %s" % (width, "target @connections", "  ".join("%34s" % ("round %d: req/s p50 p99 stolen" % (i + 1))
                                                                 for i in range(len(rounds)))))
    for name in names:
        cells = []
        for results in rounds:
            r = results[name]
            cell = "%7.0f %6.2f %6.2f %5.0f" % (r["rps"], r["p50_ms"], r["p99_ms"], r.get("stolen_max_ms", 0))
            cells.append("%34s" % (cell + (" FAILED %d" % r["failed"] if r["failed"] else "")))
        print("%-*s %s" % (width, name, "  ".join(cells)))
    print("(milliseconds; stolen: the most CPU time the hypervisor took from the machine within 100 ms of the run)")


def write_report(path, failed, **fields):
    """Writes a bench's results to `path` with the machine and the time, and fails the bench (exit status)
    when any request did not answer 200: such a run measured errors, not speed."""
    report = {"machine": machine(), **fields, "failed": failed,
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(report, handle, indent=1)
    print("\nwritten to %s; %s" % (path, json.dumps(report["machine"])))
    if failed:
        sys.exit("bench: %d requests did not answer 200" % failed)
