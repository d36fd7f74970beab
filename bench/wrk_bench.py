#!/usr/bin/env python3
"""The driver of bench/run (which builds the binaries first): servers up, signed requests, wrk rounds.

Each round measures every target once at 1 connection and once at 16, so the ceiling, Coffer and
moto_server share whatever the machine did in that round; Coffer's three operations change places each
round. A request is signed again before each measurement (SigV4 accepts a signature for 15 minutes; wrk
replays one request for --duration seconds). Every response must be 200: wrk counts other statuses, and a
measurement with any is reported as failed, not as a speed.
"""
import argparse
import json
import os
import sys
import time

import wrk_common
from wrk_common import Target, free_port, kms_targets, print_table, spawn, stop_all, write_report

parser = argparse.ArgumentParser()
parser.add_argument("--coffer", required=True)
parser.add_argument("--ceiling", required=True)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--duration", type=int, default=10)
parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json"))
args = parser.parse_args()
wrk_common.duration = args.duration

try:
    exports = spawn([args.coffer, "dev", "--ephemeral", "--port", "0", "--log-level", "error"],
                    r"^export (.*AWS_ENDPOINT_URL_KMS=\S+)$", "coffer").group(1)
    env = dict(item.split("=", 1) for item in exports.split())
    coffer = env["AWS_ENDPOINT_URL_KMS"]
    coffer_pid = wrk_common.processes[-1].pid
    ceiling_port = spawn([args.ceiling, "--port", "0"], r"listening on 127\.0\.0\.1:(\d+)", "ceiling").group(1)
    targets = [Target("ceiling (bare Hummingbird route)", "http://127.0.0.1:%s" % ceiling_port, None,
                      json.dumps({"KeyId": "ceiling"}), "x", "x", wrk_common.processes[-1].pid)]
    targets += kms_targets("coffer", coffer, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], coffer_pid)
    moto = None
    try:
        moto_port = free_port()
        spawn(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], r"Running on", "moto")
        moto = "http://127.0.0.1:%d" % moto_port
        moto_pid = wrk_common.processes[-1].pid
        targets += [t for t in kms_targets("moto_server", moto, "testing", "testing", moto_pid)
                    if "GenerateDataKey" in t.name]
    except (FileNotFoundError, SystemExit) as error:
        print("bench: moto_server not measured (%s)" % error)

    # Coffer's three operations take turns at going first: `--ephemeral` keeps every audit record in
    # memory, and the process's CPU per request grows with the store (about a tenth over 500,000
    # requests), which in a fixed order always fell on Decrypt, measured last.
    coffer_targets = [t for t in targets if t.name.startswith("coffer ")]
    rounds = []
    for number in range(1, args.rounds + 1):
        turn = (number - 1) % len(coffer_targets)
        rotated = coffer_targets[turn:] + coffer_targets[:turn]
        order = [targets[0]] + rotated + [t for t in targets[1:] if t not in coffer_targets]
        results = {}
        for connections in (1, 16):
            for target in order:
                results["%s @%d" % (target.name, connections)] = target.measure(connections)
        results = {"%s @%d" % (t.name, c): results["%s @%d" % (t.name, c)] for c in (1, 16) for t in targets}
        rounds.append(results)
        print("round %d of %d" % (number, args.rounds), flush=True)
finally:
    stop_all()

print_table(rounds, list(rounds[0]), 44)


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

# What each server's process spent per request (its user and system CPU time over the requests wrk
# counted), which the hypervisor's steal does not inflate: the steadier figure to compare two builds by.
cpu = {}
for name in rounds[0]:
    values = [results[name].get("server_cpu_us_per_request") for results in rounds]
    if None not in values:
        cpu[name] = [round(v, 1) for v in values]
print()
for name, values in cpu.items():
    print("%-66s %s" % ("server CPU µs/request, " + name, "  ".join("%7.1f" % v for v in values)))
failed = sum(r["failed"] for results in rounds for r in results.values())
write_report(args.out, failed, duration_s=args.duration, rounds=rounds, ratios=ratios, server_cpu_us_per_request=cpu)
