"""AWS's errors, as AWS names them, with their HTTP status and message shape, for what test_kms_api.py and
test_member_edges.py do not cover: a table of calls against a real `coffer dev`, raw requests boto3 will
not send (wrong JSON types, unknown targets, bad signatures), and the two 500s (KMSInternalException,
DependencyTimeoutException) against a `coffer host` whose HSM leaves or stops.

`test_every_error_the_operations_throw_is_asserted` reads the operations' sources for every KMSError code
they throw and fails if an e2e test never asserts its AWS name."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import botocore.session
import pytest

from conftest import (COFFER_BIN, MISSING_KEY, Processes, alias_arn, assert_raw_error, expect_error, key_arn, raw_kms,
                      signed_call, validation_message)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "..", "..", "Sources")
MODEL = botocore.session.get_session().get_service_model("kms")
ONE_LINE = r"[^\n]*"  # AWS wording not pinned: a one-line message, never a stack trace


def enum_set(shape):
    return "[" + ", ".join(MODEL.shape_for(shape).enum) + "]"


class World:
    """Keys in every state the table needs."""

    def __init__(self, coffer):
        self.coffer = coffer
        self.kms = coffer.client()
        self.raw = coffer.client(validate=False)
        self.key = self.kms.create_key(Description="errors")["KeyMetadata"]
        self.id, self.arn = self.key["KeyId"], self.key["Arn"]
        self.kms.create_alias(AliasName="alias/err-target", TargetKeyId=self.id)
        self.blob = self.kms.encrypt(KeyId=self.id, Plaintext=b"x")["CiphertextBlob"]


@pytest.fixture(scope="module")
def world(coffer):
    return World(coffer)


def alias_not_found(name):
    return re.escape("Alias %s is not found." % alias_arn(None, name, region="us-east-1", account="000000000000"))


def key_not_found(key_id):
    return re.escape("Key '%s' does not exist" % key_arn(None, key_id, region="us-east-1", account="000000000000"))


ROOT_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "kms:*", "Resource": "*"}]})

#: id -> (call(world) -> (method, kwargs), AWS error, HTTP status, message regex)
TABLE = {
    # Aliases name the alias ARN, unquoted, in every not-found message.
    "DescribeKey alias name not found": (
        lambda w: (w.kms.describe_key, {"KeyId": "alias/x"}), "NotFoundException", 400, alias_not_found("alias/x")),
    "DescribeKey alias ARN not found": (
        lambda w: (w.kms.describe_key, {"KeyId": alias_arn(w.coffer, "alias/x")}), "NotFoundException", 400,
        alias_not_found("alias/x")),
    "Encrypt alias not found": (
        lambda w: (w.kms.encrypt, {"KeyId": "alias/x", "Plaintext": b"p"}), "NotFoundException", 400,
        alias_not_found("alias/x")),
    "GenerateDataKey alias not found": (
        lambda w: (w.kms.generate_data_key, {"KeyId": "alias/x", "KeySpec": "AES_256"}), "NotFoundException", 400,
        alias_not_found("alias/x")),
    "DeleteAlias not found": (
        lambda w: (w.kms.delete_alias, {"AliasName": "alias/x"}), "NotFoundException", 400, alias_not_found("alias/x")),
    "UpdateAlias not found": (
        lambda w: (w.kms.update_alias, {"AliasName": "alias/x", "TargetKeyId": w.id}), "NotFoundException", 400,
        alias_not_found("alias/x")),
    "CreateAlias already exists": (
        lambda w: (w.kms.create_alias, {"AliasName": "alias/err-target", "TargetKeyId": w.id}),
        "AlreadyExistsException", 400,
        re.escape("An alias with the name %s already exists" % alias_arn(None, "alias/err-target", region="us-east-1",
                                                                        account="000000000000"))),
    "CreateAlias reserved alias/aws/": (
        lambda w: (w.kms.create_alias, {"AliasName": "alias/aws/mine", "TargetKeyId": w.id}),
        "NotAuthorizedException", 400, ONE_LINE),
    "UpdateAlias reserved alias/aws/": (
        lambda w: (w.kms.update_alias, {"AliasName": "alias/aws/ebs", "TargetKeyId": w.id}),
        "NotAuthorizedException", 400, ONE_LINE),
    "DeleteAlias reserved alias/aws/": (
        lambda w: (w.kms.delete_alias, {"AliasName": "alias/aws/ebs"}), "NotAuthorizedException", 400, ONE_LINE),
    "CreateAlias without alias/ prefix": (
        lambda w: (w.kms.create_alias, {"AliasName": "no-prefix", "TargetKeyId": w.id}), "ValidationException", 400,
        re.escape('Alias must start with the prefix "alias/". Please see '
                  "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")),
    "DeleteAlias without alias/ prefix": (
        lambda w: (w.kms.delete_alias, {"AliasName": "no-prefix"}), "ValidationException", 400,
        r'Alias must start with the prefix "alias/"\..*'),
    "CreateAlias name pattern": (
        lambda w: (w.raw.create_alias, {"AliasName": "alias/bad name!", "TargetKeyId": w.id}),
        "ValidationException", 400,
        validation_message("alias/bad name!", "aliasName", "Member must satisfy regular expression pattern: "
                           + MODEL.shape_for("AliasNameType").metadata["pattern"])),
    "CreateAlias target missing": (
        lambda w: (w.kms.create_alias, {"AliasName": "alias/new", "TargetKeyId": MISSING_KEY}),
        "NotFoundException", 400, key_not_found(MISSING_KEY)),
    # Enumerations answer the whole value set, in the model's order.
    "CreateKey unknown KeySpec": (
        lambda w: (w.raw.create_key, {"KeySpec": "AES_512"}), "ValidationException", 400,
        validation_message("AES_512", "keySpec", "Member must satisfy enum value set: " + enum_set("KeySpec"))),
    "CreateKey unknown KeyUsage": (
        lambda w: (w.raw.create_key, {"KeyUsage": "WRAP"}), "ValidationException", 400,
        validation_message("WRAP", "keyUsage", "Member must satisfy enum value set: " + enum_set("KeyUsageType"))),
    "GenerateDataKey unknown KeySpec": (
        lambda w: (w.raw.generate_data_key, {"KeyId": w.id, "KeySpec": "AES_512"}), "ValidationException", 400,
        validation_message("AES_512", "keySpec", "Member must satisfy enum value set: " + enum_set("DataKeySpec"))),
    "GenerateDataKey two violations": (
        lambda w: (w.raw.generate_data_key, {"KeyId": w.id, "KeySpec": "AES_512", "NumberOfBytes": 0}),
        "ValidationException", 400,
        r"2 validation errors detected: (?=.*Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must "
        r"have value greater than or equal to 1)(?=.*Value 'AES_512' at 'keySpec' failed to satisfy constraint: "
        r"Member must satisfy enum value set: \[AES_256, AES_128\]).*"),
    "DescribeKey KeyId missing": (
        lambda w: (w.raw.describe_key, {}), "ValidationException", 400,
        re.escape("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
                  "Member must not be null")),
    "Encrypt plaintext too long": (
        lambda w: (w.kms.encrypt, {"KeyId": w.id, "Plaintext": b"x" * 4097}), "ValidationException", 400,
        re.escape("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
                  "Member must have length less than or equal to 4096")),
    "CreateKey KeySpec and CustomerMasterKeySpec": (
        lambda w: (w.kms.create_key, {"KeySpec": "SYMMETRIC_DEFAULT", "CustomerMasterKeySpec": "RSA_2048"}),
        "ValidationException", 400, ONE_LINE),
    # Real AWS features Coffer does not have yet.
    "Sign with ED25519_PH_SHA_512 (no Ed25519ph in swift-crypto)": (
        lambda w: (w.kms.sign, {"KeyId": w.kms.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY")[
            "KeyMetadata"]["KeyId"], "Message": b"m", "SigningAlgorithm": "ED25519_PH_SHA_512"}),
        "UnsupportedOperationException", 400, ONE_LINE),
    "CreateKey custom key store": (
        lambda w: (w.kms.create_key, {"CustomKeyStoreId": "cks-1234567890abcdef0"}),
        "UnsupportedOperationException", 400, ONE_LINE),
    "GenerateRandom custom key store": (
        lambda w: (w.kms.generate_random, {"NumberOfBytes": 8, "CustomKeyStoreId": "cks-1234567890abcdef0"}),
        "UnsupportedOperationException", 400, ONE_LINE),
    "Decrypt Recipient": (
        lambda w: (w.kms.decrypt, {"CiphertextBlob": w.blob, "Recipient": {
            "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"}}),
        "UnsupportedOperationException", 400, ONE_LINE),
    # Policies: the key is found before the policy is read.
    "PutKeyPolicy missing key, malformed policy": (
        lambda w: (w.kms.put_key_policy, {"KeyId": MISSING_KEY, "PolicyName": "default", "Policy": "not json"}),
        "NotFoundException", 400, key_not_found(MISSING_KEY)),
    "PutKeyPolicy malformed policy": (
        lambda w: (w.kms.put_key_policy, {"KeyId": w.id, "PolicyName": "default", "Policy": "not json"}),
        "MalformedPolicyDocumentException", 400, ONE_LINE),
    "PutKeyPolicy over 32 KiB": (
        lambda w: (w.kms.put_key_policy, {"KeyId": w.id, "PolicyName": "default",
                                          "Policy": ROOT_POLICY[:-1] + ', "Pad": "' + "x" * 40000 + '"}'}),
        "LimitExceededException", 400, ONE_LINE),
    # Tags.
    "TagResource duplicate keys": (
        lambda w: (w.kms.tag_resource, {"KeyId": w.id, "Tags": [{"TagKey": "d", "TagValue": "1"},
                                                                {"TagKey": "d", "TagValue": "2"}]}),
        "TagException", 400, ONE_LINE),
    "TagResource beyond 50 tags": (
        lambda w: (w.kms.tag_resource, {"KeyId": w.kms.create_key(Tags=[
            {"TagKey": "k%d" % i, "TagValue": "v"} for i in range(50)])["KeyMetadata"]["KeyId"],
            "Tags": [{"TagKey": "one-more", "TagValue": "v"}]}),
        "LimitExceededException", 400, ONE_LINE),
    # Markers that no page ever answered.
    "ListAliases bad marker": (
        lambda w: (w.kms.list_aliases, {"Marker": "%%%"}), "InvalidMarkerException", 400, ONE_LINE),
    "ListResourceTags bad marker": (
        lambda w: (w.kms.list_resource_tags, {"KeyId": w.id, "Marker": "%%%"}), "InvalidMarkerException", 400,
        ONE_LINE),
    "ListKeyRotations bad marker": (
        lambda w: (w.kms.list_key_rotations, {"KeyId": w.id, "Marker": "bm90LWEtcm90YXRpb24="}),
        "InvalidMarkerException", 400, ONE_LINE),
    "ListKeyPolicies bad marker": (
        lambda w: (w.kms.list_key_policies, {"KeyId": w.id, "Marker": "%%%"}), "InvalidMarkerException", 400,
        ONE_LINE),
    # Key ids that are no key id.
    "DescribeKey malformed key id": (
        lambda w: (w.kms.describe_key, {"KeyId": "not-a-key-id"}), "NotFoundException", 400, ONE_LINE),
    "DescribeKey malformed ARN": (
        lambda w: (w.kms.describe_key, {"KeyId": "arn:aws:kms:us-east-1:000000000000:bucket/x"}),
        "NotFoundException", 400, ONE_LINE),
    "GetKeyPolicy by alias (key id or ARN only)": (
        lambda w: (w.kms.get_key_policy, {"KeyId": "alias/err-target", "PolicyName": "default"}),
        "NotFoundException", 400, ONE_LINE),
    "Encrypt non-symmetric algorithm": (
        lambda w: (w.kms.encrypt, {"KeyId": w.id, "Plaintext": b"x", "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
        "InvalidKeyUsageException", 400, ONE_LINE),
    "Decrypt wrong KeyId": (
        lambda w: (w.kms.decrypt, {"CiphertextBlob": w.blob, "KeyId": w.kms.create_key()["KeyMetadata"]["KeyId"]}),
        "IncorrectKeyException", 400,
        re.escape("The key ID in the request does not identify the key used to encrypt the ciphertext")),
    "Decrypt garbage": (
        lambda w: (w.kms.decrypt, {"CiphertextBlob": b"\x00" * 64}), "InvalidCiphertextException", 400, r""),
}


@pytest.mark.parametrize("case", list(TABLE))
def test_error_table(world, case):
    make, code, status, message = TABLE[case]
    call, kwargs = make(world)
    expect_error(code, call, status=status, message=message, **kwargs)


# MARK: Shapes of successful answers that error paths border on

def test_rotation_answers_name_the_key_id(world):
    kms = world.kms
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.rotate_key_on_demand(KeyId=key)["KeyId"] == key
    assert kms.get_key_rotation_status(KeyId=key)["KeyId"] == key
    assert kms.rotate_key_on_demand(KeyId=key_arn(world.coffer, key))["KeyId"] == key
    assert all(r["KeyId"] == key for r in kms.list_key_rotations(KeyId=key)["Rotations"])


def test_list_key_rotations_honours_limit_and_marker(world):
    kms = world.kms
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    empty = kms.list_key_rotations(KeyId=key)
    assert empty["Rotations"] == [] and not empty["Truncated"] and "NextMarker" not in empty
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key)
    everything = kms.list_key_rotations(KeyId=key)
    assert len(everything["Rotations"]) == 3 and not everything["Truncated"]
    pages, marker = [], None
    for _ in range(5):
        page = kms.list_key_rotations(KeyId=key, Limit=1, **({"Marker": marker} if marker else {}))
        pages.append(page["Rotations"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert [p for p in pages] == [[r] for r in everything["Rotations"]]
    two = kms.list_key_rotations(KeyId=key, Limit=2)
    assert two["Rotations"] == everything["Rotations"][:2] and two["Truncated"]
    rest = kms.list_key_rotations(KeyId=key, Limit=2, Marker=two["NextMarker"])
    assert rest["Rotations"] == everything["Rotations"][2:] and not rest["Truncated"]
    dates = [r["RotationDate"] for r in everything["Rotations"]]
    assert dates == sorted(dates)
    assert {r["RotationType"] for r in everything["Rotations"]} == {"ON_DEMAND"}


def test_list_aliases_entries_carry_dates(world):
    kms = world.kms
    first, second = kms.create_key()["KeyMetadata"]["KeyId"], kms.create_key()["KeyMetadata"]["KeyId"]
    before = time.time()
    kms.create_alias(AliasName="alias/dated", TargetKeyId=first)
    entry = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/dated"][0]
    assert set(entry) == {"AliasName", "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate"}
    assert entry["AliasArn"] == alias_arn(world.coffer, "alias/dated") and entry["TargetKeyId"] == first
    assert before - 2 <= entry["CreationDate"].timestamp() <= time.time() + 2
    assert entry["LastUpdatedDate"] >= entry["CreationDate"]
    time.sleep(1.1)
    kms.update_alias(AliasName="alias/dated", TargetKeyId=second)
    moved = kms.list_aliases(KeyId=second)["Aliases"]
    assert [a["AliasName"] for a in moved] == ["alias/dated"]
    assert moved[0]["CreationDate"] == entry["CreationDate"] and moved[0]["LastUpdatedDate"] > entry["CreationDate"]


# MARK: Raw requests

SERIALIZATION = [
    ("ListKeys", {"Limit": "5"}, r"STRING_VALUE can not be converted to an Integer"),
    ("ListKeys", {"Limit": True}, r".* can not be converted to an Integer"),
    ("ListKeys", {"Limit": [1]}, r"Start of list found where not expected"),
    ("ListKeys", {"Limit": {"n": 1}}, r"Start of structure or map found where not expected\.?"),
    ("ListKeys", {"Marker": 5}, r".* can not be converted to an? String"),
    ("Encrypt", {"KeyId": 5, "Plaintext": "eA=="}, r".* can not be converted to an? String"),
    ("Encrypt", {"KeyId": "alias/err-target", "Plaintext": 5}, r".* can not be converted to an? \w+"),
    ("Encrypt", {"KeyId": "alias/err-target", "Plaintext": "eA==", "EncryptionContext": ["a"]},
     r"Start of list found where not expected"),
    ("Encrypt", {"KeyId": "alias/err-target", "Plaintext": "eA==", "EncryptionContext": {"a": 1}},
     r".* can not be converted to an? String"),
    ("Encrypt", {"KeyId": "alias/err-target", "Plaintext": "eA==", "GrantTokens": "t"},
     r".* can not be converted to an? \w+"),
    ("TagResource", {"KeyId": MISSING_KEY, "Tags": {"TagKey": "a", "TagValue": "b"}},
     r"Start of structure or map found where not expected\.?"),
    ("GenerateDataKey", {"KeyId": "alias/err-target", "NumberOfBytes": "32"},
     r"STRING_VALUE can not be converted to an Integer"),
    ("CreateKey", {"MultiRegion": "false"}, r".* can not be converted to an? Boolean"),
    ("ListKeys", "{not json", ONE_LINE),
]


@pytest.mark.parametrize("operation,body,message", SERIALIZATION,
                         ids=["%s-%d" % (s[0], n) for n, s in enumerate(SERIALIZATION)])
def test_wrong_json_types_are_serialization_exceptions(coffer, world, operation, body, message):
    assert_raw_error(raw_kms(coffer, operation, body), "SerializationException", 400, message)


def test_an_empty_body_is_an_empty_request(coffer, world):
    status, _, body = raw_kms(coffer, "ListKeys", b"")
    assert status == 200 and "Keys" in body


@pytest.mark.parametrize("target", ["TrentService.NoSuchOperation", "TrentService.", "KMS.ListKeys",
                                    "CofferDev.NoSuchCall", "trentservice.ListKeys"])
def test_unknown_targets_are_unknown_operations(coffer, target):
    assert_raw_error(signed_call(coffer, target, {}), "UnknownOperationException", 400, ONE_LINE)


@pytest.mark.parametrize("operation", ["CreateCustomKeyStore", "ConnectCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore"])
def test_real_aws_operations_not_served_yet_are_unsupported(coffer, operation):
    assert MODEL.operation_model(operation)  # a real AWS KMS operation
    assert_raw_error(raw_kms(coffer, operation, {}), "UnsupportedOperationException", 400, ONE_LINE)


def test_signature_errors(coffer):
    assert_raw_error(raw_kms(coffer, "ListKeys", {}, secret_key="not-the-secret"), "InvalidSignatureException", 400,
                     re.escape("The request signature we calculated does not match the signature you provided. "
                               "Check your AWS Secret Access Key and signing method. "
                               "Consult the service documentation for details."))
    assert_raw_error(raw_kms(coffer, "ListKeys", {}, access_key="AKIDNOSUCHKEY"), "UnrecognizedClientException", 400,
                     re.escape("The security token included in the request is invalid."))
    # boto3 sees the same.
    expect_error("UnrecognizedClientException", coffer.client(access_key="AKIDNOSUCHKEY").list_keys)


def test_unsigned_request_is_missing_authentication_token(coffer):
    request = urllib.request.Request(coffer.endpoint + "/", data=b"{}", method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    body = json.loads(refused.value.read())
    assert refused.value.code in (400, 403)
    assert body["__type"].split("#")[-1] == "MissingAuthenticationTokenException", body
    assert re.fullmatch(r"(Request is )?[Mm]issing Authentication Token", body.get("message", "")), body


def test_error_responses_carry_a_request_id(coffer):
    status, headers, body = raw_kms(coffer, "DescribeKey", {"KeyId": MISSING_KEY})
    lower = {k.lower(): v for k, v in headers.items()}
    assert status == 400 and re.fullmatch(r"[0-9a-f-]{36}", lower["x-amzn-requestid"])
    assert lower["content-type"] == "application/x-amz-json-1.1"
    assert set(body) <= {"__type", "message", "Message"}


# MARK: The 500s, against a `coffer host` and a separate `coffer hsm`

class External(Processes):
    """`coffer hsm` + a one-HSM domain made by two operators + `coffer host` serving every region."""

    def __init__(self):
        super().__init__("coffer-host-")
        hsm_log = os.path.join(self.dir, "hsm.log")
        self.hsm = self.spawn(["hsm", "--listen", "127.0.0.1:0"], hsm_log)
        self.hsm_address = self.wait_for(hsm_log, r"listening on (127\.0\.0\.1:\d+)", self.hsm).group(1)
        for who in ("alice", "bob", "host-1"):
            self.run("operator", "keygen", "--id", who, "--out", who + ".pem")
        self.run("hsm", "identify", "--hsm", self.hsm_address, "--out", "a.identity")
        self.run("command", "new", "domain.create", "--name", "e2e", "--member", "a.identity",
                 "--operator", "alice:admin=alice.pub.pem", "--operator", "bob:admin=bob.pub.pem",
                 "--add-host", "host-1=host-1.pub.pem", "--rule", "*=admin:2", "--out", "create.cmd")
        self.approve_and_submit("create.cmd", None, "epoch0.token")
        genesis = json.loads(self.run("domain", "show", "epoch0.token", "--json"))["state"]["digest"]
        self.genesis = genesis
        credentials = os.path.join(self.dir, "credentials.json")
        with open(credentials, "w") as handle:
            json.dump({"credentials": [{"accessKeyId": "AKIDE2EHOST", "secretAccessKey": "e2e-host-secret"}]}, handle)
        os.chmod(credentials, 0o600)
        host_log = os.path.join(self.dir, "host.log")
        self.host = self.spawn(["host", "--listen", "127.0.0.1:0", "--hsm", self.hsm_address, "--host-id", "host-1",
                                "--host-key", "host-1.pem", "--genesis", genesis, "--token", "epoch0.token",
                                "--store", "coffer.sqlite", "--credentials", "credentials.json"], host_log)
        self.endpoint = self.wait_for(host_log, r"serving the KMS API on (http://127\.0\.0\.1:\d+)", self.host).group(1)
        # A principal that signs nothing until the HSM is gone (test_internal_and_dependency_errors_are_500s).
        self.unused_key = json.loads(self.run(
            "principals", "add", "spare", "--store", "coffer.sqlite", "--hsm", self.hsm_address, "--host-id",
            "host-1", "--host-key", "host-1.pem", "--genesis", genesis, "--json"))

    def approve_and_submit(self, command, state, out):
        extra = ["--state", state] if state else []
        for who in ("alice", "bob"):
            self.run("command", "sign", command, "--key", who + ".pem", *extra)
        self.run("command", "submit", command, "--hsm", self.hsm_address, "--out", out)

    def client(self):
        import boto3
        import botocore.config
        return boto3.client("kms", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIDE2EHOST", aws_secret_access_key="e2e-host-secret",
                            config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                                          read_timeout=30))

    def stop(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self):
        for process in reversed(self.processes):
            self.stop(process)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def external():
    setup = External()
    yield setup
    setup.close()


def test_principals_of_a_host_store_are_sealed_through_the_domains_hsm(external):
    # `coffer principals --store` works as the host does (its id, key and the pinned genesis), while it runs.
    printed = json.loads(external.run(
        "principals", "add", "ops", "--store", "coffer.sqlite", "--hsm", external.hsm_address, "--host-id", "host-1",
        "--host-key", "host-1.pem", "--genesis", external.genesis, "--account-id", "000000000000", "--json",
        "--root"))
    import boto3
    ops = boto3.client("kms", endpoint_url=external.endpoint, region_name="us-east-1",
                       aws_access_key_id=printed["AccessKeyId"], aws_secret_access_key=printed["SecretAccessKey"])
    assert ops.generate_random(NumberOfBytes=8)["Plaintext"]
    listing = external.run("principals", "list", "--store", "coffer.sqlite")
    assert printed["AccessKeyId"] in listing and printed["SecretAccessKey"] not in listing
    with open(os.path.join(external.dir, "coffer.sqlite"), "rb") as handle:
        assert printed["SecretAccessKey"].encode() not in handle.read()
    # Without the HSM options the command says what it needs.
    done = subprocess.run([COFFER_BIN, "principals", "add", "x", "--store", "coffer.sqlite"], cwd=external.dir,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--hsm, --host-id, --host-key and --genesis" in done.stderr


def test_internal_and_dependency_errors_are_500s(external):
    kms = external.client()
    key = kms.create_key(Description="before")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"

    # The domain drops this host: the HSM refuses its sessions, an internal failure of the service.
    external.run("command", "new", "domain.modifyHosts", "--state", "epoch0.token", "--remove-host", "host-1",
                 "--out", "hosts.cmd")
    external.approve_and_submit("hosts.cmd", "epoch0.token", "epoch1.token")
    for call, kwargs in ((kms.encrypt, {"KeyId": key, "Plaintext": b"x"}), (kms.decrypt, {"CiphertextBlob": blob}),
                         (kms.generate_random, {"NumberOfBytes": 8}), (kms.create_key, {})):
        response = expect_error("KMSInternalException", call, status=500, message=ONE_LINE, **kwargs)
        assert re.fullmatch(r"[0-9a-f-]{36}", response["ResponseMetadata"]["RequestId"])
    # What needs no HSM still works.
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "before"

    # The HSM is gone: every cryptographic call times out on its dependency.
    external.stop(external.hsm)
    for call, kwargs in ((kms.encrypt, {"KeyId": key, "Plaintext": b"x"}), (kms.decrypt, {"CiphertextBlob": blob}),
                         (kms.generate_data_key, {"KeyId": key, "KeySpec": "AES_256"}),
                         (kms.generate_random, {"NumberOfBytes": 8}), (kms.rotate_key_on_demand, {"KeyId": key}),
                         (kms.create_key, {})):
        expect_error("DependencyTimeoutException", call, status=500, message=ONE_LINE, **kwargs)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    # A principal of the store that never signed before needs an HSM to derive its day key: with none, the
    # service's dependency failed (500, DependencyTimeoutException, retryable), not the caller (not
    # UnrecognizedClientException).
    import boto3
    spare = external.unused_key
    client = boto3.client("kms", endpoint_url=external.endpoint, region_name="us-east-1",
                          aws_access_key_id=spare["AccessKeyId"], aws_secret_access_key=spare["SecretAccessKey"],
                          config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}))
    expect_error("DependencyTimeoutException", client.list_keys, status=500)


# MARK: Every error the operations throw is asserted somewhere

def thrown_error_names():
    codes = {}
    with open(os.path.join(SOURCES, "CofferKMS", "KMSError.swift")) as handle:
        for name, aws, status in re.findall(r'static let `?(\w+)`? = Code\("(\w+)"(?:, status: (\d+))?\)',
                                            handle.read()):
            codes[name] = (aws, int(status or 400))
    thrown = set()
    files = glob.glob(os.path.join(SOURCES, "CofferKMS", "**", "*.swift"), recursive=True)
    files += glob.glob(os.path.join(SOURCES, "CofferServer", "AWSJSON", "*.swift"))
    for path in files:
        with open(path) as handle:
            text = handle.read()
        thrown |= set(re.findall(r"KMSError\(\s*\.`?(\w+)`?\s*,", text))
        if "missingMember(" in text:
            thrown.add("validation")
    unknown = thrown - set(codes)
    assert not unknown, unknown
    return {codes[c][0]: codes[c][1] for c in thrown}


def test_every_error_the_operations_throw_is_asserted():
    names = thrown_error_names()
    assert {"NotFoundException", "ValidationException", "KMSInternalException",
            "DryRunOperationException"} <= set(names)
    assert names["DryRunOperationException"] == 412
    assert names["KMSInternalException"] == names["DependencyTimeoutException"] == 500
    tests = ""
    for path in glob.glob(os.path.join(HERE, "test_*.py")):
        with open(path) as handle:
            tests += handle.read()
    asserted = set(re.findall(r'"(\w+Exception)"', tests))
    missing = sorted(set(names) - asserted)
    assert not missing, "errors the operations throw that no e2e test asserts: %s" % missing
