"""The recovery drill of docs/recovery.md as a test, on a fleet: two `coffer hsm` processes and two `coffer host`
processes on one store, a recovery kit of three custodians (threshold 2). Keys and ciphertexts are made
through both hosts (boto3 and the AWS Encryption SDK), every HSM is SIGKILLed, a new HSM is recovered with two
resealed shares and an operator quorum, both hosts follow by themselves, and every ciphertext decrypts.

`coffer recovery create` runs under strace: the only files it writes are the kit's, no file it writes holds a
plaintext share or the recovery private key (rebuilt here from two shares with Python's `cryptography`)."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

import aws_encryption_sdk
import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import COFFER_BIN, Processes
from test_recovery_vectors import combine, fingerprint, kdf, party

# A fleet of its own on one SQLite file: the first pass is enough.
pytestmark = pytest.mark.skipif(bool(os.environ.get("COFFER_E2E_POSTGRES")), reason="run in the first pass")

ACCOUNT = "111122223333"
REGION = "eu-west-1"


class DrillFleet(Processes):
    def __init__(self):
        super().__init__("coffer-recovery-")
        self.store = os.path.join(self.dir, "coffer.sqlite")
        self.hsms = {}
        for name in ("a", "b"):
            log = os.path.join(self.dir, "hsm-%s.log" % name)
            process = self.spawn(["hsm", "--listen", "127.0.0.1:0"], log)
            address = self.wait_for(log, r"listening on (127\.0\.0\.1:\d+)", process).group(1)
            self.hsms[name] = (process, address)
        self.new_address = "unix:" + os.path.join(self.dir, "hsm-new.sock")
        for who in ("alice", "bob", "host-1", "host-2"):
            self.run("operator", "keygen", "--id", who, "--out", who + ".pem")
        for custodian in ("c1", "c2", "c3"):
            self.run("recovery", "keygen", "--out", custodian + ".pem")
        a, b = self.hsms["a"][1], self.hsms["b"][1]
        self.run("hsm", "identify", "--hsm", a, "--out", "a.identity")
        self.run("command", "new", "domain.create", "--name", "drill", "--member", "a.identity",
                 "--operator", "alice:admin=alice.pub.pem", "--operator", "bob:admin=bob.pub.pem",
                 "--add-host", "host-1=host-1.pub.pem", "--add-host", "host-2=host-2.pub.pem",
                 "--rule", "*=admin:2", "--out", "create.cmd")
        self.approve("create.cmd")
        self.run("command", "submit", "create.cmd", "--hsm", a, "--out", "epoch0.token")
        self.genesis = json.loads(self.run("domain", "show", "epoch0.token", "--json"))["state"]["digest"]
        self.create_kit()
        self.run("hsm", "identify", "--hsm", b, "--out", "b.identity")
        self.run("command", "new", "domain.modifyMembers", "--state", "epoch0.token", "--add-member", "b.identity",
                 "--add-member", "kit/member.der", "--out", "members.cmd")
        self.approve("members.cmd", "epoch0.token")
        self.run("command", "submit", "members.cmd", "--hsm", a, "--out", "epoch1.token")
        self.run("command", "new", "domain.join", "--token", "epoch1.token", "--out", "join.cmd")
        self.approve("join.cmd")
        self.run("command", "submit", "join.cmd", "--hsm", b)
        self.hosts = [None, None]
        self.endpoints = [None, None]
        for n in (1, 2):
            self.start_host(n)
        self.add_admin(self.store, a, self.genesis, ACCOUNT)

    def create_kit(self):
        """`coffer recovery create` under strace, recording every file it opens for writing or renames."""
        args = ["recovery", "create", "--custodians", "c1.pub.pem,c2.pub.pem,c3.pub.pem", "--threshold", "2",
                "--out", "kit", "--json"]
        strace = shutil.which("strace")
        trace = os.path.join(self.dir, "create.trace")
        command = ([strace, "-f", "-qq", "-e",
                    "trace=openat,openat2,open,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat",
                    "-o", trace] if strace else []) + [COFFER_BIN, *args]
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        self.kit = json.loads(done.stdout)
        self.trace = open(trace).read() if strace else None

    def start_host(self, n):
        log = os.path.join(self.dir, "host-%d.log" % n)
        process = self.spawn(
            ["host", "--listen", "127.0.0.1:0", "--hsm", self.hsms["a"][1], "--hsm", self.hsms["b"][1],
             "--hsm", self.new_address, "--host-id", "host-%d" % n, "--host-key", "host-%d.pem" % n,
             "--genesis", self.genesis, "--token", "epoch0.token", "--token", "epoch1.token", "--store", self.store,
             "--account-id", ACCOUNT, "--region", REGION, "--upkeep-interval", "1"], log)
        self.hosts[n - 1] = process
        self.endpoints[n - 1] = self.wait_for(log, r"serving the KMS API on (http://127\.0\.0\.1:\d+)",
                                              process).group(1)

    def client(self, n):
        return boto3.client("kms", endpoint_url=self.endpoints[n], region_name=REGION,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                            config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                                          read_timeout=30))

    def path(self, name):
        return os.path.join(self.dir, name)


@pytest.fixture(scope="module")
def drill():
    fleet = DrillFleet()
    yield fleet
    fleet.stop_all()
    shutil.rmtree(fleet.dir, ignore_errors=True)


def custodian_key(fleet, name):
    with open(fleet.path(name + ".pem"), "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def der_fields(data):
    """The content octets of each element of a DER SEQUENCE (short or long lengths)."""
    assert data[0] == 0x30
    offset, length = 1, data[1]
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[2:2 + count], "big")
        offset += count
    offset += 1
    end = offset + length
    fields = []
    while offset < end:
        tag, size = data[offset], data[offset + 1]
        start = offset + 2
        if size & 0x80:
            count = size & 0x7F
            size = int.from_bytes(data[start:start + count], "big")
            start += count
        fields.append((tag, data[offset:start + size], data[start:start + size]))
        offset = start + size
    return fields


def open_share(fleet, share_file, custodian):
    """Opens a kit's share with its custodian's key, independently of Coffer's code: (x, y, header fields)."""
    with open(fleet.path(share_file), "rb") as handle:
        der = handle.read()
    (_, header_der, header), (_, _, ephemeral_spki), (_, _, sealed) = der_fields(der)
    fields = der_fields(header_der)
    member = fields[1][2].decode()
    x = int.from_bytes(fields[5][2], "big")
    recipient_spki = fields[6][2]
    key = custodian_key(fleet, custodian)
    assert key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo) == recipient_spki
    z = key.exchange(ec.ECDH(), serialization.load_der_public_key(ephemeral_spki))
    aes = kdf(z, party(member, ephemeral_spki), party(fingerprint(recipient_spki), recipient_spki),
              hashlib.sha384(header_der).digest())
    return x, AESGCM(aes).decrypt(sealed[:12], sealed[12:], header_der), fields


def test_the_kit_holds_no_plaintext_share_and_create_writes_no_key(drill):
    shares = [open_share(drill, "kit/share-%d.share" % n, "c%d" % n) for n in (1, 2, 3)]
    scalar = combine([(x, y) for x, y, _ in shares[:2]])
    assert combine([(x, y) for x, y, _ in shares[1:]]) == scalar
    rebuilt = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP384R1())
    member_key = shares[0][2][2][2]
    assert rebuilt.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == member_key
    written = sorted(os.listdir(drill.path("kit")))
    assert written == ["member.der", "share-1.share", "share-2.share", "share-3.share"]
    secrets = [scalar] + [y for _, y, _ in shares]
    for name in written:
        with open(drill.path("kit/" + name), "rb") as handle:
            content = handle.read()
        for secret in secrets:
            assert secret not in content and secret.hex().encode() not in content, name
    if drill.trace is None:
        pytest.fail("strace is not installed: cannot check which files `coffer recovery create` writes")
    # Every file opened for writing (or renamed into place) is in the kit folder.
    writes = []
    for line in drill.trace.splitlines():
        if "= -1" in line:
            continue
        opened = re.search(r'open(?:at2?)?\([^"]*"([^"]+)", ([^)]*)', line)
        if opened and re.search(r"O_WRONLY|O_RDWR|O_CREAT", opened.group(2)):
            writes.append(opened.group(1))
        created = re.search(r'creat\("([^"]+)"', line)
        if created:
            writes.append(created.group(1))
        renamed = re.search(r'rename(?:at2?)?\(.*?"([^"]+)".*?"([^"]+)"', line)
        if renamed:
            writes.append(renamed.group(2))
    kit = drill.path("kit")
    outside = [path for path in writes if not os.path.abspath(os.path.join(drill.dir, path)).startswith(kit)
               and not path.startswith("/dev/")]
    assert writes and not outside, outside


def test_every_hsm_killed_a_new_one_recovers_and_every_ciphertext_decrypts(drill, monkeypatch):
    one, two = drill.client(0), drill.client(1)
    keys = [one.create_key(Description="drill %d" % n)["KeyMetadata"]["KeyId"] for n in range(3)]
    made = []
    for n, key in enumerate(keys):
        client = (one, two)[n % 2]
        plaintext = b"drill %d" % n
        made.append((client.encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext={"n": str(n)})[
            "CiphertextBlob"], plaintext, {"n": str(n)}))
        data_key = client.generate_data_key(KeyId=key, KeySpec="AES_256")
        made.append((data_key["CiphertextBlob"], data_key["Plaintext"], {}))
    arn = one.describe_key(KeyId=keys[0])["KeyMetadata"]["Arn"]
    esdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

    def provider(endpoint):
        # The SDK's KMS clients take their endpoint from the environment when the provider makes them.
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", endpoint)
        session = botocore.session.Session()
        session.set_credentials(drill.access_key, drill.secret_key)
        return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn], botocore_session=session)

    message, _ = esdk.encrypt(source=b"an envelope-encrypted message", key_provider=provider(drill.endpoints[0]))

    # Disaster: every HSM process is killed at once.
    for process, _ in drill.hsms.values():
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with pytest.raises(botocore.exceptions.ClientError) as down:
        one.decrypt(CiphertextBlob=made[0][0], EncryptionContext=made[0][2])
    assert down.value.response["Error"]["Code"] in ("DependencyTimeoutException", "KMSInternalException")

    # A new HSM; the operators sign domain.recover naming it; custodians 1 and 3 reseal for that command (3
    # through an identity file and a challenge of their own).
    log = drill.path("hsm-new.log")
    process = drill.spawn(["hsm", "--listen", drill.new_address], log)
    drill.wait_for(log, r"listening", process)
    challenge = os.urandom(16).hex()
    drill.run("hsm", "identify", "--hsm", drill.new_address, "--challenge", challenge, "--out", "new.identity")
    latest = drill.run("domain", "export", "--store", drill.store, "--out", "tokens").strip()
    drill.run("command", "new", "domain.recover", "--state", latest, "--member", "new.identity", "--anchor",
              drill.genesis, "--out", "recover.cmd")
    reseal = ["recovery", "reseal", "--command", "recover.cmd", "--genesis", drill.genesis, "--store", drill.store]
    # Before the quorum has signed, no custodian reseals.
    unsigned = subprocess.run([COFFER_BIN, *reseal, "--share", "kit/share-1.share", "--key", "c1.pem", "--hsm",
                               drill.new_address, "--out", "x"], cwd=drill.dir, capture_output=True, text=True,
                              timeout=60)
    assert unsigned.returncode != 0 and "quorumNotMet" in unsigned.stderr, unsigned.stderr
    drill.approve("recover.cmd", latest)
    drill.run(*reseal, "--share", "kit/share-1.share", "--key", "c1.pem", "--hsm", drill.new_address, "--out",
              "c1-new.share")
    wrong = subprocess.run([COFFER_BIN, *reseal, "--share", "kit/share-3.share", "--key", "c3.pem", "--hsm-identity",
                            "new.identity", "--challenge", os.urandom(16).hex(), "--out", "x"],
                           cwd=drill.dir, capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0 and "challenge" in wrong.stderr, wrong.stderr
    drill.run(*reseal, "--share", "kit/share-3.share", "--key", "c3.pem", "--hsm-identity", "new.identity",
              "--challenge", challenge, "--out", "c3-new.share")
    recovered = json.loads(drill.run(
        "recovery", "submit", "--command", "recover.cmd", "--share", "c1-new.share", "--share", "c3-new.share",
        "--hsm", drill.new_address, "--store", drill.store, "--out", "recovered.token", "--json"))
    assert recovered["epoch"] == 2

    # Both hosts adopt the recovered state at their next health check, and every ciphertext decrypts on each.
    for client in (one, two):
        deadline = time.monotonic() + 30
        while True:
            try:
                client.decrypt(CiphertextBlob=made[0][0], EncryptionContext=made[0][2])
                break
            except botocore.exceptions.ClientError:
                assert time.monotonic() < deadline, "a host did not follow the recovered HSM"
                time.sleep(0.2)
        for blob, plaintext, context in made:
            assert client.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
        new_blob = client.encrypt(KeyId=keys[0], Plaintext=b"after")["CiphertextBlob"]
        assert client.decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"after"
    decrypted, _ = esdk.decrypt(source=message, key_provider=provider(drill.endpoints[1]))
    assert decrypted == b"an envelope-encrypted message"

    # The stored chain, recovery included, verifies from the genesis; a host restarted on it serves at once. A
    # host serves a state its pool adopted at once and appends it to the store's chain in its upkeep round (every
    # second here), which may come after the calls above.
    deadline = time.monotonic() + 30
    while True:
        drill.run("domain", "export", "--store", drill.store, "--out", "tokens")
        files = sorted(os.listdir(drill.path("tokens")), key=lambda name: int(re.search(r"\d+", name).group()))
        if len(files) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(files) == 3, "the recovered state was not stored within 30 s: %s" % files
    verified = drill.run("domain", "verify", "--genesis", drill.genesis, *["tokens/" + f for f in files])
    assert "epoch 2: domain.recover approved by alice, bob — verified" in verified
    drill.hosts[1].terminate()
    drill.hosts[1].wait(timeout=20)
    drill.start_host(2)
    for blob, plaintext, context in made:
        assert drill.client(1).decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
