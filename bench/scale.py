#!/usr/bin/env python3
"""The driver of bench/scale (which builds the binary first): GenerateDataKey rate and the resident memory of
a `coffer dev` (release, SQLite in a data directory, as a user runs it) with 1,000, 100,000 and 1,000,000
keys in its store (issue 12: memory may grow by less than 10 % and the rate drop by less than 10 %).

The first 1,000 keys are real: created through the API (CreateKey, each with its backing key made by the
HSM). The rest are filler written into the stopped store's SQLite file: copies of a real key's row and
backing-key row under new random key ids and backing-key ids. They are never called; they make the tables
and their indexes as large as a store of that many keys, and since key ids are random UUIDs the real keys'
rows lie spread among them, so every lookup walks a B-tree of the full size. After each fill `coffer dev`
starts again on the same directory (its HSM recovered, as on every restart); once the host's first re-wrap
pass has read every stored token (its time is reported: the one cost that grows with the store), wrk replays GenerateDataKey
requests, each on one of 64 real keys chosen at random, at 16 connections. The resident memory (VmRSS of
the process, which in dev mode holds the host and its HSM) is read after the load.
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import botocore.auth
import botocore.awsrequest
import botocore.credentials

import wrk_common
from wrk_common import LUA_DONE, REGION, StolenTime, client, spawn, stop_all, write_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--coffer", required=True)
parser.add_argument("--sizes", default="1000,100000,1000000", help="store sizes in keys, ascending")
parser.add_argument("--rounds", type=int, default=3, help="measurements at each size")
parser.add_argument("--duration", type=int, default=10)
parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "scale.json"))
args = parser.parse_args()
sizes = [int(s) for s in args.sizes.split(",")]
if sizes != sorted(sizes) or sizes[0] < 64:
    sys.exit("bench/scale: --sizes must ascend and start at 64 keys or more")
REAL = min(sizes[0], 1000)
data = tempfile.mkdtemp(prefix="coffer-scale-")


def start():
    """`coffer dev` on the data directory: its endpoint, credentials and process."""
    exports = spawn([args.coffer, "dev", "--data-dir", data, "--port", "0", "--log-level", "error"],
                    r"^export (.*AWS_ENDPOINT_URL_KMS=\S+)$", "coffer-scale", timeout=180).group(1)
    env = dict(item.split("=", 1) for item in exports.split())
    return env, wrk_common.processes[-1]


def settled(env):
    """Waits for the host's first re-wrap pass (at start it reads every stored token: a census of the domain
    keys they depend on, issue 11) to end, so that the load meets the store, not the pass; its seconds."""
    began = time.monotonic()
    while time.monotonic() - began < 900:
        with urllib.request.urlopen(env["AWS_ENDPOINT_URL_KMS"] + "/metrics", timeout=10) as answer:
            if re.search(r"^coffer_rewrap_passes_total(\{\})? [1-9]", answer.read().decode(), re.M):
                return time.monotonic() - began
        time.sleep(0.5)
    sys.exit("bench/scale: the host's first re-wrap pass did not end within 15 minutes")


def stop(process):
    process.terminate()
    process.wait(timeout=60)


def script(endpoint, credentials, keys):
    """A wrk script sending GenerateDataKey on a key drawn at random from `keys`, each request signed."""
    lines = ["local requests = {}", "init = function(args)"]
    for number, key in enumerate(keys, 1):
        body = json.dumps({"KeyId": key, "KeySpec": "AES_256"})
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=endpoint + "/", data=body.encode(),
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.GenerateDataKey"})
        botocore.auth.SigV4Auth(credentials, "kms", REGION).add_auth(request)
        headers = "{%s}" % ", ".join("[%s] = %s" % (json.dumps(k), json.dumps(v))
                                     for k, v in request.headers.items() if k.lower() != "host")
        lines.append("  requests[%d] = wrk.format('POST', '/', %s, %s)" % (number, headers, json.dumps(body)))
    lines += ["end", "request = function() return requests[math.random(#requests)] end"]
    path = os.path.join(data, "scale.lua")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n" + LUA_DONE)
    return path


def measure(env, process, keys):
    credentials = botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    path = script(env["AWS_ENDPOINT_URL_KMS"], credentials, keys)
    # Warm up: the keys' pages read once, the HSM sessions open.
    subprocess.run(["wrk", "-t2", "-c16", "-d3s", "-s", path, env["AWS_ENDPOINT_URL_KMS"] + "/"],
                   capture_output=True, timeout=60)
    results = []
    for _ in range(args.rounds):
        with StolenTime() as stolen:
            done = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % args.duration, "--timeout", "5s", "-s", path,
                                   env["AWS_ENDPOINT_URL_KMS"] + "/"], capture_output=True, text=True,
                                  timeout=args.duration + 60)
        line = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
        if not line:
            sys.exit("bench/scale: wrk printed no result:\n%s%s" % (done.stdout, done.stderr))
        r = json.loads(line[0][len("RESULT "):])
        results.append({"rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
                        "p99_ms": r["p99_us"] / 1000, "failed": r["non2xx"] + r["socket_errors"],
                        "stolen_max_ms": stolen.max_ms})
    status = open("/proc/%d/status" % process.pid).read()
    memory = {field: int(line.split()[1]) // 1024 for line in status.splitlines()
              for field in ("VmRSS", "VmHWM") if line.startswith(field + ":")}
    return results, memory


def fill(count):
    """Adds filler keys to the stopped store until it holds `count` keys (see the module's text)."""
    database = sqlite3.connect(os.path.join(data, "coffer.sqlite"))
    database.execute("PRAGMA synchronous=OFF")
    have = database.execute("SELECT count(*) FROM keys").fetchone()[0]
    key_row = database.execute("SELECT * FROM keys LIMIT 1")
    key_columns = [d[0] for d in key_row.description]
    template = key_row.fetchone()
    backing = database.execute("SELECT * FROM backing_keys WHERE account = ? AND region = ? AND key_id = ?",
                               (template[key_columns.index("account")], template[key_columns.index("region")],
                                template[key_columns.index("id")]))
    backing_columns = [d[0] for d in backing.description if d[0] != "seq"]
    backing_template = dict(zip([d[0] for d in backing.description], backing.fetchone()))
    key_insert = "INSERT INTO keys (%s) VALUES (%s)" % (", ".join(key_columns), ", ".join("?" * len(key_columns)))
    backing_insert = "INSERT INTO backing_keys (%s) VALUES (%s)" % (
        ", ".join(backing_columns), ", ".join("?" * len(backing_columns)))
    id_at = key_columns.index("id")
    while have < count:
        batch = min(50_000, count - have)
        ids = [str(uuid.uuid4()) for _ in range(batch)]
        database.executemany(key_insert, ([*template[:id_at], i, *template[id_at + 1:]] for i in ids))
        database.executemany(backing_insert, (
            [i if c == "key_id" else str(uuid.uuid4()) if c == "backing_key_id" else backing_template[c]
             for c in backing_columns] for i in ids))
        database.commit()
        have += batch
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()


rows = []
try:
    env, process = start()
    kms = client(env["AWS_ENDPOINT_URL_KMS"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        real = list(pool.map(lambda _: kms.create_key(Description="scale")["KeyMetadata"]["KeyId"], range(REAL)))
    print("bench/scale: %d keys created through the API in %.0f s" % (REAL, time.monotonic() - began), flush=True)
    chosen = [real[i * len(real) // 64] for i in range(64)]
    for size in sizes:
        if size > REAL:
            stop(process)
            began = time.monotonic()
            fill(size)
            print("bench/scale: store filled to %d keys in %.0f s" % (size, time.monotonic() - began), flush=True)
            env, process = start()
        pass_seconds = settled(env)
        results, memory = measure(env, process, chosen)
        database_mib = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                           if f.startswith("coffer.sqlite")) // (1 << 20)
        rows.append({"keys": size, "measurements": results, "rss_mib": memory["VmRSS"], "hwm_mib": memory["VmHWM"],
                     "database_mib": database_mib, "first_pass_s": round(pass_seconds, 1),
                     "rps_median": statistics.median(r["rps"] for r in results)})
        print("bench/scale: %d keys done" % size, flush=True)
finally:
    stop_all()
    shutil.rmtree(data, ignore_errors=True)

print("\n%10s %9s %9s %6s %12s  %s" % ("keys", "RSS MiB", "store MiB", "pass s", "median req/s",
                                    "GenerateDataKey @16, each round: req/s p50 p99 (ms) stolen"))
for row in rows:
    cells = "  ".join("%6.0f %5.2f %6.2f %4.0f" % (r["rps"], r["p50_ms"], r["p99_ms"], r["stolen_max_ms"])
                      for r in row["measurements"])
    print("%10d %9d %9d %6.0f %12.0f  %s" % (row["keys"], row["rss_mib"], row["database_mib"], row["first_pass_s"],
                                            row["rps_median"], cells))
print("(pass s: how long after start the host's first re-wrap pass, which reads every stored token, took to end;"
      " the load starts after it)")
first, last = rows[0], rows[-1]
growth = {"memory": round(last["rss_mib"] / first["rss_mib"] - 1, 3),
          "rate": round(last["rps_median"] / first["rps_median"] - 1, 3)}
print("\nfrom %d to %d keys: resident memory %+.1f %%, GenerateDataKey rate %+.1f %%"
      % (first["keys"], last["keys"], growth["memory"] * 100, growth["rate"] * 100))
failed = sum(r["failed"] for row in rows for r in row["measurements"])
write_report(args.out, failed, duration_s=args.duration, rows=rows, change=growth)
