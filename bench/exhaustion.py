#!/usr/bin/env python3
"""The driver of bench/exhaustion (which builds the binaries first): Encrypt and Decrypt latency of a
`coffer dev` (release) at 1 and 16 connections, measured by wrk: undisturbed; while 1,000 idle TCP
connections to its HSM's port and 5,000 slow HTTP connections to its KMS port are held open ("held": each
connection the server closes is opened again a second later; tests/e2e/flood.py, each a process of its
own, from 127.0.0.2 and 127.0.0.3, an attacker elsewhere on the network); and under the same attackers
reopening at once ("reopening at once": a connection flood whose Python processes also take the two
cores the servers and wrk run on). Each round measures the three in turn, so they share whatever the
machine did."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import wrk_common
from wrk_common import kms_targets, print_table, spawn, stop_all, write_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--coffer", required=True)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--duration", type=int, default=10)
parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "exhaustion.json"))
args = parser.parse_args()
wrk_common.duration = args.duration


class Floods:
    """The two attackers, as processes of their own."""

    def __init__(self, hsm, kms, reopen_after):
        script = os.path.join(ROOT, "tests", "e2e", "flood.py")
        delay = ["--reopen-after", str(reopen_after)]
        self.processes = [
            subprocess.Popen([sys.executable, script, "127.0.0.2", hsm, "1000", *delay], stdout=subprocess.PIPE,
                             text=True),
            subprocess.Popen([sys.executable, script, "127.0.0.3", kms, "5000", "--slow-http", *delay],
                             stdout=subprocess.PIPE, text=True),
        ]
        wrk_common.processes.extend(self.processes)  # stopped with the servers if the bench exits early
        for process in self.processes:
            line = process.stdout.readline()
            if not line.startswith("holding"):
                sys.exit("bench: an attacker did not start: %r" % line)
        time.sleep(3)  # every place taken; the attackers keep reopening what the servers close

    def stop(self):
        reopened = []
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=30)
            reopened.append(out.strip().splitlines()[-1])
        return reopened


data = tempfile.mkdtemp(prefix="coffer-exhaustion-")
rounds = []
try:
    exports = spawn([args.coffer, "dev", "--data-dir", data, "--port", "0", "--log-level", "error"],
                    r"^export (.*AWS_ENDPOINT_URL_KMS=\S+)$", "coffer").group(1)
    env = dict(item.split("=", 1) for item in exports.split())
    endpoint = env["AWS_ENDPOINT_URL_KMS"]
    hsm = open(os.path.join(data, "hsm.address")).read().strip()
    targets = [t for t in kms_targets("coffer", endpoint, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
               if "GenerateDataKey" not in t.name]
    for number in range(1, args.rounds + 1):
        results = {}
        for mode, reopen_after in (("", None), (" held", 1.0), (" reopening at once", 0.0)):
            floods = Floods(hsm, endpoint.split("//")[1], reopen_after) if reopen_after is not None else None
            for connections in (1, 16):
                for target in targets:
                    results["%s @%d%s" % (target.name, connections, mode)] = target.measure(connections)
            if floods:
                results["attackers" + mode] = floods.stop()
        rounds.append(results)
        print("round %d of %d" % (number, args.rounds), flush=True)
finally:
    stop_all()
    shutil.rmtree(data, ignore_errors=True)

print_table(rounds, [name for name in rounds[0] if not name.startswith("attackers")], 46)
for mode in ("held", "reopening at once"):
    print("attackers %s (HSM port, KMS port): %s" % (mode, "; ".join(", ".join(r["attackers " + mode]) for r in rounds)))
failed = sum(r["failed"] for results in rounds for name, r in results.items() if not name.startswith("attackers"))
write_report(args.out, failed, duration_s=args.duration, rounds=rounds)
