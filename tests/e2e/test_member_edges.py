"""Every integer and boolean member of every operation Coffer serves, at its edges, through boto3 against
a real `coffer dev`: integers at 0, 1, min-1, min, max and max+1 (the model's range, or KMS's narrower
one where KMS enforces one), booleans at true and false and, sent raw, as the JSON numbers 0 and 1.

The members come from botocore's model, the served operations from KMSRegistry.swift, so a member (or a
newly served operation) without an entry in EDGES fails `test_every_integer_and_boolean_member_is_covered`.

Also: paging through ListKeys one key at a time with the AWS CLI (v1) and with boto3.
"""
import base64
import json
import os
import re
import subprocess
import time

import botocore.session
import pytest

from conftest import (MISSING_KEY, assert_raw_error, expect_error, key_arn, raw_kms, validation_message)

REGISTRY = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CofferKMS", "Pipeline", "KMSRegistry.swift")
MODEL = botocore.session.get_session().get_service_model("kms")

#: A policy that lets the dev account's root (the dev caller) do everything: passes AWS's lockout check.
ROOT_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
    "Action": "kms:*", "Resource": "*"}]})
#: A policy that lets only another account in: AWS's lockout safety check refuses it unless bypassed.
DRY_RUN_MESSAGE = re.escape("The request would have succeeded, but the DryRun option is set.")


def served_operations():
    with open(REGISTRY) as handle:
        text = handle.read()
    body = text[text.index("operations: [any KMSOperation.Type] = ["):]
    body = body[:body.index("]\n")]
    body = re.sub(r"//[^\n]*", "", body)
    return re.findall(r"\b([A-Z][A-Za-z]+)\.self\b", body)


def scalar_members(shape, path=()):
    """(dotted member path, type, min, max) of every integer, long and boolean member under `shape`."""
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            yield from scalar_members(member, path + (name,))
    elif shape.type_name == "list":
        yield from scalar_members(shape.member, path + ("member",))
    elif shape.type_name == "map":
        yield from scalar_members(shape.value, path + ("value",))
    elif shape.type_name in ("integer", "long", "boolean"):
        yield ".".join(path), shape.type_name, shape.metadata.get("min"), shape.metadata.get("max")


def model_members():
    found = {}
    for operation in served_operations():
        shape = MODEL.operation_model(operation).input_shape
        for path, kind, low, high in scalar_members(shape) if shape else ():
            found[(operation, path)] = (kind, low, high)
    return found


#: KMS enforces a narrower range than the model states (the model: 1 … 365; KMS accepts 7 … 30 and its
#: ValidationException names 7 and 30).
KMS_RANGES = {("ScheduleKeyDeletion", "PendingWindowInDays"): (7, 30)}


# MARK: The calls, one per (operation, member)

class Fixture:
    """What the calls need: clients, an Enabled key with two tags and two rotations, and a ciphertext."""

    def __init__(self, coffer):
        self.coffer = coffer
        self.kms = coffer.client()
        self.raw = coffer.client(validate=False)
        key = self.kms.create_key(Description="edges", Tags=[{"TagKey": "a", "TagValue": "1"},
                                                             {"TagKey": "b", "TagValue": "2"}])["KeyMetadata"]
        self.key, self.arn = key["KeyId"], key["Arn"]
        self.kms.create_alias(AliasName="alias/edges", TargetKeyId=self.key)
        self.kms.rotate_key_on_demand(KeyId=self.key)
        self.kms.rotate_key_on_demand(KeyId=self.key)
        self.blob = self.kms.encrypt(KeyId=self.key, Plaintext=b"edge")["CiphertextBlob"]
        signer = self.kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        self.signer, self.signer_arn = signer["KeyId"], signer["Arn"]
        self.signature = self.kms.sign(KeyId=self.signer, Message=b"edge", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        mac = self.kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
        self.mac_key, self.mac_arn = mac["KeyId"], mac["Arn"]
        self.mac = self.kms.generate_mac(KeyId=self.mac_key, Message=b"edge", MacAlgorithm="HMAC_SHA_256")["Mac"]
        agreement = self.kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
        self.agreement, self.agreement_arn = agreement["KeyId"], agreement["Arn"]
        self.peer = self.kms.get_public_key(KeyId=self.signer)["PublicKey"]
        # Two grants on the key, both retirable by one principal.
        self.grantee = "arn:aws:iam::000000000000:user/edges"
        self.admin = "arn:aws:iam::000000000000:user/admin"
        self.grants = [self.kms.create_grant(KeyId=self.key, GranteePrincipal=self.grantee, Operations=[op],
                                             RetiringPrincipal=self.grantee)["GrantId"]
                       for op in ("Decrypt", "Encrypt")]

    def fresh_grant(self):
        # The caller (dev's admin user) retires it: only the account root, the retiring principal or a grantee
        # with RetireGrant may, as in AWS.
        return self.kms.create_grant(KeyId=self.key, GranteePrincipal=self.grantee, Operations=["Decrypt"],
                                     RetiringPrincipal=self.admin)

    def fresh_key(self):
        return self.kms.create_key(Description="edges, fresh")["KeyMetadata"]["KeyId"]


def list_keys(f, v):
    page = f.raw.list_keys(Limit=v)
    assert 1 <= len(page["Keys"]) <= v


def list_aliases(f, v):
    page = f.raw.list_aliases(Limit=v)
    assert 1 <= len(page["Aliases"]) <= v


def list_resource_tags(f, v):
    page = f.raw.list_resource_tags(KeyId=f.key, Limit=v)
    assert page["Tags"] == [{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}][:v]
    assert page["Truncated"] == (v < 2)


def list_key_rotations(f, v):
    page = f.raw.list_key_rotations(KeyId=f.key, Limit=v)
    assert len(page["Rotations"]) == min(v, 2) and page["Truncated"] == (v < 2)


def list_key_policies(f, v):
    page = f.raw.list_key_policies(KeyId=f.key, Limit=v)
    assert page["PolicyNames"] == ["default"] and not page["Truncated"]


def list_grants(f, v):
    page = f.raw.list_grants(KeyId=f.key, Limit=v, GranteePrincipal=f.grantee)
    assert 1 <= len(page["Grants"]) <= v
    assert all(grant["GranteePrincipal"] == f.grantee for grant in page["Grants"])


def list_retirable_grants(f, v):
    page = f.raw.list_retirable_grants(RetiringPrincipal=f.grantee, Limit=v)
    assert len(page["Grants"]) == min(v, 2) and page["Truncated"] == (v < 2)


def generate_data_key_bytes(f, v):
    data = f.raw.generate_data_key(KeyId=f.key, NumberOfBytes=v)
    assert len(data["Plaintext"]) == v and data["KeyId"] == f.arn


def generate_data_key_without_plaintext_bytes(f, v):
    data = f.raw.generate_data_key_without_plaintext(KeyId=f.key, NumberOfBytes=v)
    assert "Plaintext" not in data
    assert len(f.kms.decrypt(CiphertextBlob=data["CiphertextBlob"])["Plaintext"]) == v


def generate_random_bytes(f, v):
    assert len(f.raw.generate_random(NumberOfBytes=v)["Plaintext"]) == v


def schedule_key_deletion(f, v):
    key = f.fresh_key()
    before = time.time()
    result = f.raw.schedule_key_deletion(KeyId=key, PendingWindowInDays=v)
    assert result["KeyState"] == "PendingDeletion" and result["PendingWindowInDays"] == v
    assert result["KeyId"] == key_arn(f.coffer, key)
    deletion = result["DeletionDate"].timestamp()
    assert before + v * 86400 - 5 <= deletion <= time.time() + v * 86400 + 5


def enable_key_rotation(f, v):
    f.raw.enable_key_rotation(KeyId=f.key, RotationPeriodInDays=v)
    status = f.kms.get_key_rotation_status(KeyId=f.key)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == v


def dry_run(operation, arn="arn", **fixed):
    """DryRun: true is DryRunOperationException, false succeeds (answering the fixture's `arn` as KeyId,
    unless `arn` is None: an operation that answers no KeyId)."""
    def call(f, flag):
        arguments = {name: (value(f) if callable(value) else value) for name, value in fixed.items()}
        method = getattr(f.raw, botocore.xform_name(operation))
        if flag:
            expect_error("DryRunOperationException", method, status=412, message=DRY_RUN_MESSAGE, DryRun=True,
                         **arguments)
        else:
            result = method(DryRun=False, **arguments)
            if arn is not None:
                assert result["KeyId"] == getattr(f, arn)
    return call


def create_key_multi_region(f, flag):
    if flag:
        metadata = f.raw.create_key(MultiRegion=True)["KeyMetadata"]
        assert metadata["MultiRegion"] is True and metadata["KeyId"].startswith("mrk-")
        assert metadata["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    else:
        metadata = f.raw.create_key(MultiRegion=False)["KeyMetadata"]
        assert metadata["MultiRegion"] is False and metadata["KeyState"] == "Enabled"


def create_key_bypass(f, flag):
    metadata = f.raw.create_key(Policy=ROOT_POLICY, BypassPolicyLockoutSafetyCheck=flag)["KeyMetadata"]
    assert f.kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"] == ROOT_POLICY


def put_key_policy_bypass(f, flag):
    f.raw.put_key_policy(KeyId=f.key, PolicyName="default", Policy=ROOT_POLICY, BypassPolicyLockoutSafetyCheck=flag)
    assert f.kms.get_key_policy(KeyId=f.key, PolicyName="default")["Policy"] == ROOT_POLICY


def replicate_key_bypass(f, flag):
    primary = f.kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    answer = f.raw.replicate_key(KeyId=primary, ReplicaRegion="eu-north-1", Policy=ROOT_POLICY,
                                 BypassPolicyLockoutSafetyCheck=flag)
    assert answer["ReplicaPolicy"] == ROOT_POLICY


def b64(data):
    return base64.b64encode(data).decode()


#: (operation, member) -> (call(fixture, value), the other members of a raw request as a function of the
#: fixture: used to send the JSON numbers 0 and 1 for a boolean).
EDGES = {
    ("ListKeys", "Limit"): (list_keys, None),
    ("ListAliases", "Limit"): (list_aliases, None),
    ("ListResourceTags", "Limit"): (list_resource_tags, None),
    ("ListKeyRotations", "Limit"): (list_key_rotations, None),
    ("ListKeyPolicies", "Limit"): (list_key_policies, None),
    ("ListGrants", "Limit"): (list_grants, None),
    ("ListRetirableGrants", "Limit"): (list_retirable_grants, None),
    ("GenerateDataKey", "NumberOfBytes"): (generate_data_key_bytes, None),
    ("GenerateDataKeyWithoutPlaintext", "NumberOfBytes"): (generate_data_key_without_plaintext_bytes, None),
    ("GenerateRandom", "NumberOfBytes"): (generate_random_bytes, None),
    ("ScheduleKeyDeletion", "PendingWindowInDays"): (schedule_key_deletion, None),
    ("EnableKeyRotation", "RotationPeriodInDays"): (enable_key_rotation, None),
    ("Encrypt", "DryRun"): (dry_run("Encrypt", KeyId=lambda f: f.key, Plaintext=b"x"),
                            lambda f: {"KeyId": f.key, "Plaintext": b64(b"x")}),
    ("Decrypt", "DryRun"): (dry_run("Decrypt", CiphertextBlob=lambda f: f.blob),
                            lambda f: {"CiphertextBlob": b64(f.blob)}),
    ("ReEncrypt", "DryRun"): (dry_run("ReEncrypt", CiphertextBlob=lambda f: f.blob, DestinationKeyId=lambda f: f.key),
                              lambda f: {"CiphertextBlob": b64(f.blob), "DestinationKeyId": f.key}),
    ("GenerateDataKey", "DryRun"): (dry_run("GenerateDataKey", KeyId=lambda f: f.key, KeySpec="AES_256"),
                                    lambda f: {"KeyId": f.key, "KeySpec": "AES_256"}),
    ("GenerateDataKeyWithoutPlaintext", "DryRun"): (
        dry_run("GenerateDataKeyWithoutPlaintext", KeyId=lambda f: f.key, KeySpec="AES_256"),
        lambda f: {"KeyId": f.key, "KeySpec": "AES_256"}),
    ("Sign", "DryRun"): (
        dry_run("Sign", "signer_arn", KeyId=lambda f: f.signer, Message=b"edge", SigningAlgorithm="ECDSA_SHA_256"),
        lambda f: {"KeyId": f.signer, "Message": b64(b"edge"), "SigningAlgorithm": "ECDSA_SHA_256"}),
    ("Verify", "DryRun"): (
        dry_run("Verify", "signer_arn", KeyId=lambda f: f.signer, Message=b"edge", Signature=lambda f: f.signature,
                SigningAlgorithm="ECDSA_SHA_256"),
        lambda f: {"KeyId": f.signer, "Message": b64(b"edge"), "Signature": b64(f.signature),
                   "SigningAlgorithm": "ECDSA_SHA_256"}),
    ("GenerateMac", "DryRun"): (
        dry_run("GenerateMac", "mac_arn", KeyId=lambda f: f.mac_key, Message=b"edge", MacAlgorithm="HMAC_SHA_256"),
        lambda f: {"KeyId": f.mac_key, "Message": b64(b"edge"), "MacAlgorithm": "HMAC_SHA_256"}),
    ("VerifyMac", "DryRun"): (
        dry_run("VerifyMac", "mac_arn", KeyId=lambda f: f.mac_key, Message=b"edge", Mac=lambda f: f.mac,
                MacAlgorithm="HMAC_SHA_256"),
        lambda f: {"KeyId": f.mac_key, "Message": b64(b"edge"), "Mac": b64(f.mac), "MacAlgorithm": "HMAC_SHA_256"}),
    ("GenerateDataKeyPair", "DryRun"): (
        dry_run("GenerateDataKeyPair", KeyId=lambda f: f.key, KeyPairSpec="ECC_NIST_P256"),
        lambda f: {"KeyId": f.key, "KeyPairSpec": "ECC_NIST_P256"}),
    ("GenerateDataKeyPairWithoutPlaintext", "DryRun"): (
        dry_run("GenerateDataKeyPairWithoutPlaintext", KeyId=lambda f: f.key, KeyPairSpec="ECC_NIST_P256"),
        lambda f: {"KeyId": f.key, "KeyPairSpec": "ECC_NIST_P256"}),
    ("DeriveSharedSecret", "DryRun"): (
        dry_run("DeriveSharedSecret", "agreement_arn", KeyId=lambda f: f.agreement, KeyAgreementAlgorithm="ECDH",
                PublicKey=lambda f: f.peer),
        lambda f: {"KeyId": f.agreement, "KeyAgreementAlgorithm": "ECDH", "PublicKey": b64(f.peer)}),
    ("CreateGrant", "DryRun"): (
        dry_run("CreateGrant", None, KeyId=lambda f: f.key, GranteePrincipal=lambda f: f.grantee,
                       Operations=["Decrypt"]),
        lambda f: {"KeyId": f.key, "GranteePrincipal": f.grantee, "Operations": ["Decrypt"]}),
    ("RetireGrant", "DryRun"): (
        dry_run("RetireGrant", None, GrantToken=lambda f: f.fresh_grant()["GrantToken"]),
        lambda f: {"GrantToken": f.fresh_grant()["GrantToken"]}),
    ("RevokeGrant", "DryRun"): (
        dry_run("RevokeGrant", None, KeyId=lambda f: f.key, GrantId=lambda f: f.fresh_grant()["GrantId"]),
        lambda f: {"KeyId": f.key, "GrantId": f.fresh_grant()["GrantId"]}),
    ("CreateKey", "MultiRegion"): (create_key_multi_region, lambda f: {}),
    ("CreateKey", "BypassPolicyLockoutSafetyCheck"): (create_key_bypass, lambda f: {"Policy": ROOT_POLICY}),
    ("ReplicateKey", "BypassPolicyLockoutSafetyCheck"): (
        replicate_key_bypass, lambda f: {"KeyId": f.kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"],
                                         "ReplicaRegion": "eu-north-1", "Policy": ROOT_POLICY}),
    ("PutKeyPolicy", "BypassPolicyLockoutSafetyCheck"): (
        put_key_policy_bypass, lambda f: {"KeyId": f.key, "PolicyName": "default", "Policy": ROOT_POLICY}),
}

MEMBERS = model_members()


def integer_cases():
    for (operation, member), (kind, low, high) in sorted(MEMBERS.items()):
        if kind == "boolean":
            continue
        low, high = KMS_RANGES.get((operation, member), (low, high))
        for value in sorted({0, 1, low - 1, low, high, high + 1}):
            yield pytest.param(operation, member, value, low, high, id="%s.%s=%d" % (operation, member, value))


def boolean_cases():
    for (operation, member), (kind, _, _) in sorted(MEMBERS.items()):
        if kind == "boolean":
            yield pytest.param(operation, member, id="%s.%s" % (operation, member))


@pytest.fixture(scope="module")
def f(coffer):
    return Fixture(coffer)


def test_every_integer_and_boolean_member_is_covered():
    served = served_operations()
    assert len(served) == 48 and len(set(served)) == 48, served
    for operation in served:
        MODEL.operation_model(operation)  # every served operation is an AWS KMS operation
    assert set(MEMBERS) == set(EDGES), "members without edge tests: %s; stale entries: %s" % (
        sorted(set(MEMBERS) - set(EDGES)), sorted(set(EDGES) - set(MEMBERS)))
    # The members the issue names are among them (the model has not lost any).
    for operation in ("ListKeys", "ListAliases", "ListResourceTags", "ListKeyRotations", "ListKeyPolicies"):
        assert MEMBERS[(operation, "Limit")][0] == "integer"
    for operation in ("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"):
        assert MEMBERS[(operation, "DryRun")][0] == "boolean"
    assert len(list(integer_cases())) >= 10 * 4 and len(list(boolean_cases())) == 19


@pytest.mark.parametrize("operation,member,value,low,high", list(integer_cases()))
def test_integer_member_edges(f, operation, member, value, low, high):
    call, _ = EDGES[(operation, member)]
    path = member[0].lower() + member[1:]
    if low <= value <= high:
        call(f, value)
    else:
        bound = ("greater than or equal to %d" % low) if value < low else ("less than or equal to %d" % high)
        expect_error("ValidationException", call, f, value, status=400,
                     message=validation_message(value, path, "Member must have value " + bound))


@pytest.mark.parametrize("operation,member", list(boolean_cases()))
def test_boolean_member_edges(f, operation, member):
    call, _ = EDGES[(operation, member)]
    call(f, True)
    call(f, False)


@pytest.mark.parametrize("operation,member", list(boolean_cases()))
def test_boolean_member_refuses_json_numbers(f, coffer, operation, member):
    _, others = EDGES[(operation, member)]
    for number in (0, 1):
        body = dict(others(f), **{member: number})
        assert_raw_error(raw_kms(coffer, operation, body), "SerializationException", 400,
                         r"[^\n]* can not be converted to an? Boolean")
    # The same body with a JSON boolean is accepted (true answers its documented outcome).
    status, _, answer = raw_kms(coffer, operation, dict(others(f), **{member: False}))
    assert status == 200, answer


def test_schedule_key_deletion_model_bounds_name_kms_range(f):
    # The model's own bounds (1 … 365) are not KMS's: 365 is refused naming 30, and 366 too.
    for value in (365, 366):
        expect_error("ValidationException", schedule_key_deletion, f, value, message=validation_message(
            value, "pendingWindowInDays", "Member must have value less than or equal to 30"))


def test_dry_run_reports_the_error_a_real_call_would_meet(f):
    # A dry run that would fail answers that failure, not DryRunOperationException.
    expect_error("NotFoundException", f.kms.encrypt, KeyId=MISSING_KEY, Plaintext=b"x", DryRun=True)
    disabled = f.fresh_key()
    f.kms.disable_key(KeyId=disabled)
    expect_error("DisabledException", f.kms.generate_data_key, KeyId=disabled, KeySpec="AES_256", DryRun=True)
    expect_error("InvalidCiphertextException", f.kms.decrypt, CiphertextBlob=b"\x01" * 80, DryRun=True)


def test_bypass_policy_lockout_safety_check_is_read_as_a_boolean(f):
    # Both values are accepted with a policy that keeps the account root in. The lockout check itself (AWS
    # refuses a policy that would lock the caller out unless this flag is true) needs key policies to be
    # evaluated, which the access-control issue builds; until then the flag is read and checked for its
    # type only.
    for flag in (True, False):
        key = f.kms.create_key(Policy=ROOT_POLICY, BypassPolicyLockoutSafetyCheck=flag)["KeyMetadata"]["KeyId"]
        f.kms.put_key_policy(KeyId=key, PolicyName="default", Policy=ROOT_POLICY, BypassPolicyLockoutSafetyCheck=flag)


# MARK: Paging through ListKeys one key at a time

PAGED_REGION = "eu-central-1"


def scope_keys(kms):
    page = kms.list_keys(Limit=1000)
    assert not page["Truncated"]
    return [k["KeyId"] for k in page["Keys"]]


@pytest.fixture(scope="module")
def paged(make_client, f):
    """A scope (this account in PAGED_REGION) of exactly four keys, one of them pending deletion and one
    disabled (ListKeys lists keys in every state); the default region's keys must not show up."""
    kms = make_client(region=PAGED_REGION)
    assert scope_keys(kms) == []
    keys = [kms.create_key(Description="paged %d" % n)["KeyMetadata"]["KeyId"] for n in range(4)]
    kms.disable_key(KeyId=keys[1])
    kms.schedule_key_deletion(KeyId=keys[2], PendingWindowInDays=7)
    assert sorted(scope_keys(kms)) == sorted(keys)
    assert f.key not in keys
    return kms, keys


def aws_cli(coffer, *args):
    env = coffer.env(AWS_DEFAULT_REGION=PAGED_REGION, AWS_REGION=PAGED_REGION)
    done = subprocess.run(["aws", "kms", *args, "--output", "json"], env=env, capture_output=True, text=True,
                          timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_aws_cli_limit_one_pages_with_marker(coffer, paged):
    # awscli v1 treats --limit (ListKeys' paginator limit_key) as manual paging: one page per call, the next
    # page asked for with --marker (the paginator's input_token) from the answer's NextMarker.
    _, keys = paged
    seen, marker = [], None
    for _ in range(len(keys) + 2):
        code, out, err = aws_cli(coffer, "list-keys", "--limit", "1", *(["--marker", marker] if marker else []))
        assert code == 0, err
        page = json.loads(out)
        assert len(page["Keys"]) == 1
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert sorted(seen) == sorted(keys) and len(seen) == len(set(seen))


def test_aws_cli_pages_with_starting_token(coffer, paged):
    # With --starting-token the page size is --page-size (sent as Limit) and each call stops after --max-items,
    # answering a NextToken (the CLI's wrapping of NextMarker) for the next --starting-token.
    _, keys = paged
    seen, token = [], None
    for _ in range(len(keys) + 2):
        code, out, err = aws_cli(coffer, "list-keys", "--page-size", "1", "--max-items", "1",
                                 *(["--starting-token", token] if token else []))
        assert code == 0, err
        page = json.loads(out)
        assert len(page["Keys"]) == 1
        seen += [k["KeyId"] for k in page["Keys"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(keys) and len(seen) == len(set(seen))
    # Without --max-items the CLI follows every NextMarker itself, one key per request.
    code, out, err = aws_cli(coffer, "list-keys", "--page-size", "1")
    assert code == 0, err
    assert sorted(k["KeyId"] for k in json.loads(out)["Keys"]) == sorted(keys)
    # --limit turns the CLI's paging off, so it refuses --starting-token with it (a client-side error).
    code, _, err = aws_cli(coffer, "list-keys", "--limit", "1", "--starting-token", "x")
    assert code != 0 and "--starting-token" in err


def test_boto3_limit_one_pages_with_marker(coffer, paged):
    kms, keys = paged
    seen, marker = [], None
    for _ in range(len(keys) + 2):
        page = kms.list_keys(Limit=1, **({"Marker": marker} if marker else {}))
        assert len(page["Keys"]) == 1
        for entry in page["Keys"]:
            assert entry["KeyArn"] == key_arn(coffer, entry["KeyId"], region=PAGED_REGION)
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert sorted(seen) == sorted(keys) and len(seen) == len(set(seen))
    # The paginator does the same.
    pages = kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1})
    assert sorted(k["KeyId"] for p in pages for k in p["Keys"]) == sorted(keys)
