"""Scheduled domain-key rotation as a `coffer dev` user meets it: a new dev domain lets its host rotate
the domain keys on its own (operator dev-host, role scheduled-rotation). With rotations every second the
domain keys turn over past their retention (7) while boto3 encrypts; the host re-wraps every stored key
before each rotation that drops a domain key, so a ciphertext made before the first rotation, and every
one made during them, still decrypts, after a restart too (the rotated chain is in the store)."""

import os
import re
import time
import urllib.request

from conftest import start_coffer

RETENTION = 7  # the dev domain's domainKeyRetention (the tool default)


def wait_for_epoch(server, timeout=30):
    """The epoch the host reports once its first upkeep round has recorded one."""
    deadline = time.monotonic() + timeout
    while domain_epoch(server) < 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    epoch = domain_epoch(server)
    assert epoch >= 0, server.log()[-4000:]
    return epoch


def domain_epoch(server):
    text = urllib.request.urlopen(server.endpoint + "/metrics", timeout=10).read().decode()
    match = re.search(r"^coffer_domain_epoch\s+([0-9.e+]+)$", text, re.M)
    return int(float(match.group(1))) if match else -1  # not recorded yet: before the first upkeep round


def test_the_dev_host_rotates_on_schedule_and_every_ciphertext_outlives_the_retention(tmp_path):
    data_dir = str(tmp_path / "data")
    server = start_coffer("--data-dir", data_dir, "--upkeep-interval", "1", "--domain-key-rotation-interval", "1")
    made = []
    try:
        kms = server.client()
        key = kms.create_key(Description="scheduled rotation")["KeyMetadata"]["KeyId"]
        made.append((kms.encrypt(KeyId=key, Plaintext=b"before any rotation")["CiphertextBlob"],
                     b"before any rotation"))
        start = wait_for_epoch(server)
        target = start + RETENTION + 2
        deadline = time.monotonic() + 180
        while domain_epoch(server) < target and time.monotonic() < deadline:
            plaintext = os.urandom(32)
            made.append((kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"], plaintext))
            time.sleep(0.2)
        reached = domain_epoch(server)
        assert reached >= target, "epoch %d, wanted %d:\n%s" % (reached, target, server.log()[-4000:])
        for blob, plaintext in made:
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
        log = server.log()
        assert "rotated the domain keys on schedule" in log
        print("dev: %d scheduled rotations (epoch %d to %d), %d ciphertexts all decrypt"
              % (reached - start, start, reached, len(made)))
    finally:
        server.stop()

    # The rotated chain was stored: a restart (rotation off) joins the newest state and decrypts everything.
    again = start_coffer("--data-dir", data_dir, "--upkeep-interval", "1", "--domain-key-rotation-interval", "0")
    try:
        assert wait_for_epoch(again) >= target
        kms = again.client()
        for blob, plaintext in made:
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
    finally:
        again.stop()


def test_rotation_is_off_when_asked():
    server = start_coffer("--ephemeral", "--upkeep-interval", "1", "--domain-key-rotation-interval", "0",
                          "--log-level", "info")
    try:
        server.client().create_key()
        wait_for_epoch(server)
        time.sleep(3)  # three upkeep rounds
        assert domain_epoch(server) == 0, server.log()[-4000:]
        log = server.log()
        assert "scheduled rotation is turned off (interval 0)" in log, log[-4000:]
        assert "rotated the domain keys on schedule" not in log
    finally:
        server.stop()
