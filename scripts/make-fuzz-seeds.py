#!/usr/bin/env python3
"""Writes the fuzz seed corpus (Tests/CofferWireTests/FuzzCorpus/seed-*) from protocol.json.

Every DER value and frame in the vectors becomes one seed file named by the SHA-256 of its bytes, so
the FuzzReplay test replays them and libFuzzer starts from real messages (docs/fuzzing.md).
"""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
vectors = json.loads((root / "Tests/CofferWireTests/Vectors/protocol.json").read_text())
out = root / "Tests/CofferWireTests/FuzzCorpus"
out.mkdir(parents=True, exist_ok=True)

seeds = set()


def walk(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, k)
    elif isinstance(node, list):
        for v in node:
            walk(v, key)
    elif isinstance(node, str) and (key.lower().endswith("der") or key in ("frame", "blob", "ciphertextBlob")):
        try:
            seeds.add(bytes.fromhex(node))
        except ValueError:
            pass


walk(vectors)
for data in sorted(seeds):
    (out / f"seed-{hashlib.sha256(data).hexdigest()[:16]}").write_bytes(data)
print(f"{len(seeds)} seeds in {out}", file=sys.stderr)
