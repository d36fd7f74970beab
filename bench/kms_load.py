#!/usr/bin/env python3
"""End-to-end load against a running Coffer (coffer dev or coffer host) through boto3.

N threads (64 by default) each with its own boto3 client run a share of M calls (20,000 by default):
GenerateDataKey, then Decrypt of the returned blob under the same encryption context, checking that the
plaintext round-trips. Exits non-zero if any call fails or any plaintext differs. Prints the throughput
and latency percentiles it measured (for the README's performance section; the test suite asserts only
correctness). Credentials and endpoint come from the usual AWS environment variables.
"""
import argparse
import os
import statistics
import sys
import threading
import time

import boto3
from botocore.config import Config

parser = argparse.ArgumentParser()
parser.add_argument("--clients", type=int, default=64)
parser.add_argument("--calls", type=int, default=20_000, help="total calls (GenerateDataKey + Decrypt pairs count 2)")
args = parser.parse_args()

config = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4)
setup = boto3.client("kms", config=config)
key = setup.create_key(Description="load test")["KeyMetadata"]["Arn"]

total_pairs = args.calls // 2
pairs_of = [total_pairs // args.clients + (1 if i < total_pairs % args.clients else 0) for i in range(args.clients)]
failures = []
latencies = []
lock = threading.Lock()


def worker(index):
    client = boto3.client("kms", config=config)
    local = []
    for n in range(pairs_of[index]):
        context = {"client": str(index), "n": str(n)}
        try:
            start = time.perf_counter()
            generated = client.generate_data_key(KeyId=key, NumberOfBytes=32, EncryptionContext=context)
            middle = time.perf_counter()
            opened = client.decrypt(CiphertextBlob=generated["CiphertextBlob"], EncryptionContext=context)
            end = time.perf_counter()
            local += [middle - start, end - middle]
            if opened["Plaintext"] != generated["Plaintext"] or opened["KeyId"] != key:
                with lock:
                    failures.append(f"client {index} call {n}: plaintext or key differs")
        except Exception as error:  # every failure is reported, none retried
            with lock:
                failures.append(f"client {index} call {n}: {error}")
    with lock:
        latencies.extend(local)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
began = time.perf_counter()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - began
calls = len(latencies)
quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
print(f"kms_load: {args.clients} clients, {calls} calls ({calls // 2} GenerateDataKey/Decrypt pairs) in {elapsed:.1f} s: "
      f"{calls / elapsed:.0f} calls/s, p50 {quantiles[49] * 1000:.1f} ms, p90 {quantiles[89] * 1000:.1f} ms, "
      f"p99 {quantiles[98] * 1000:.1f} ms; {len(failures)} failed")
for failure in failures[:10]:
    print("  " + failure, file=sys.stderr)
sys.exit(1 if failures or calls != total_pairs * 2 else 0)
