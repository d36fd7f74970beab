"""Key policies and identity policies, enforced as AWS KMS enforces them, against a real `coffer dev` whose
principals of one account (the account root, dev's admin user, alice, bob, carol and dave, each user with an
identity policy) are added with `coffer principals add` while it runs, driven by boto3 and the AWS Encryption
SDK."""
import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy

from conftest import COFFER_BIN, expect_error, start_coffer

ACCOUNT = "111122223333"
REGION = "us-east-1"
ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
ALIASES_OF_HIS_OWN = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/*"},
    {"Effect": "Allow", "Action": ["kms:CreateAlias", "kms:DeleteAlias"],
     "Resource": "arn:aws:kms:us-east-1:111122223333:alias/dave-*"}]}
DECRYPT_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


def user(name):
    return "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)


#: Each principal: its ARN and identity policy ("admin" is dev's own admin, user/admin with kms:*).
PRINCIPALS = {
    "root": (None, None),
    "admin": (user("admin"), ALL_KMS),
    "alice": (user("alice"), ALL_KMS),
    "bob": (user("bob"), ALL_KMS),
    "carol": (user("carol"), DECRYPT_ONLY),
    "dave": (user("dave"), ALIASES_OF_HIS_OWN),
}


def add_principal(data, name, policy=None, *flags):
    """`coffer principals add NAME --json` against the running dev server's data directory: (id, secret)."""
    args = [COFFER_BIN, "principals", "add", name, "--data-dir", data, "--account-id", ACCOUNT, "--json", *flags]
    if policy is not None:
        path = os.path.join(data, "..", "%s-policy.json" % name)
        with open(path, "w") as handle:
            json.dump(policy, handle)
        args += ["--policy", path]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    return printed["AccessKeyId"], printed["SecretAccessKey"]


def tenant_policy(*extra):
    """Admin manages the key; alice may encrypt, decrypt and make data keys only under tenant = a."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": user("admin")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "TenantA", "Effect": "Allow", "Principal": {"AWS": user("alice")},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "a"}}},
        *extra]})


@pytest.fixture(scope="module")
def coffer():
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    server = start_coffer("--data-dir", data, "--account-id", ACCOUNT, "--region", REGION, workdir=workdir)
    server.keys = {"admin": (server.access_key, server.secret_key)}
    for name, (_, policy) in PRINCIPALS.items():
        if name == "root":
            server.keys[name] = add_principal(data, "root", None, "--root")
        elif name != "admin":
            server.keys[name] = add_principal(data, name, policy)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def kms(coffer):
    return {name: coffer.client(access_key=key_id, secret_key=secret) for name, (key_id, secret) in coffer.keys.items()}


@pytest.fixture(scope="module")
def tenant_key(kms):
    return kms["admin"].create_key(Policy=tenant_policy())["KeyMetadata"]


def denied(call, *args, principal, action, explicit=False, **kwargs):
    """The AccessDeniedException AWS answers, with its message shape."""
    reason = (r"with an explicit deny in a (resource|identity)-based policy" if explicit
              else r"because no (resource|identity)-based policy allows the %s action" % re.escape(action))
    return expect_error("AccessDeniedException", call, *args,
                        message=r"User: %s is not authorized to perform: %s on resource: \S+ %s"
                        % (re.escape(principal), re.escape(action), reason), **kwargs)


def test_the_allowed_user_encrypts_only_under_its_tenant(kms, tenant_key):
    key = tenant_key["KeyId"]
    blob = kms["alice"].encrypt(KeyId=key, Plaintext=b"tenant a", EncryptionContext={"tenant": "a"})["CiphertextBlob"]
    assert kms["alice"].decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a"})["Plaintext"] == b"tenant a"
    denied(kms["alice"].encrypt, principal=user("alice"), action="kms:Encrypt", KeyId=key, Plaintext=b"x",
           EncryptionContext={"tenant": "b"})
    denied(kms["alice"].encrypt, principal=user("alice"), action="kms:Encrypt", KeyId=key, Plaintext=b"x")
    # Not in the policy at all: DescribeKey, and every other user, whatever their identity policy allows.
    denied(kms["alice"].describe_key, principal=user("alice"), action="kms:DescribeKey", KeyId=key)
    denied(kms["bob"].encrypt, principal=user("bob"), action="kms:Encrypt", KeyId=key, Plaintext=b"x",
           EncryptionContext={"tenant": "a"})
    denied(kms["bob"].decrypt, principal=user("bob"), action="kms:Decrypt", CiphertextBlob=blob,
           EncryptionContext={"tenant": "a"})
    # The account root is not named either: a key policy can lock it out, as in AWS.
    denied(kms["root"].describe_key, principal="arn:aws:iam::%s:root" % ACCOUNT, action="kms:DescribeKey",
           KeyId=key)


def test_an_explicit_deny_wins(kms):
    deny = {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": {"AWS": user("alice")}, "Action": "kms:Decrypt",
            "Resource": "*"}
    key = kms["admin"].create_key(Policy=tenant_policy(deny))["KeyMetadata"]["KeyId"]
    blob = kms["alice"].encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "a"})["CiphertextBlob"]
    denied(kms["alice"].decrypt, principal=user("alice"), action="kms:Decrypt", explicit=True, CiphertextBlob=blob,
           EncryptionContext={"tenant": "a"})


def test_the_default_policy_delegates_to_identity_policies(kms):
    key = kms["root"].create_key()["KeyMetadata"]["KeyId"]
    blob = kms["bob"].encrypt(KeyId=key, Plaintext=b"by bob")["CiphertextBlob"]
    assert kms["carol"].decrypt(CiphertextBlob=blob)["Plaintext"] == b"by bob"
    denied(kms["carol"].encrypt, principal=user("carol"), action="kms:Encrypt", KeyId=key, Plaintext=b"x")
    # An operation that names no key is decided by the identity policy alone.
    denied(kms["carol"].create_key, principal=user("carol"), action="kms:CreateKey")
    assert kms["bob"].list_keys()["Keys"]


def test_alias_operations_are_authorized_on_the_alias_and_the_key(kms, tenant_key):
    key = kms["root"].create_key()["KeyMetadata"]["KeyId"]
    kms["dave"].create_alias(AliasName="alias/dave-1", TargetKeyId=key)
    denied(kms["dave"].create_alias, principal=user("dave"), action="kms:CreateAlias", AliasName="alias/other",
           TargetKeyId=key)
    # The alias side allows it, the key's policy does not.
    denied(kms["dave"].create_alias, principal=user("dave"), action="kms:CreateAlias", AliasName="alias/dave-2",
           TargetKeyId=tenant_key["KeyId"])
    kms["dave"].delete_alias(AliasName="alias/dave-1")


def test_policies_are_checked_when_set(kms, tenant_key):
    key = tenant_key["KeyId"]
    expect_error("MalformedPolicyDocumentException", kms["admin"].put_key_policy, KeyId=key, PolicyName="default",
                 Policy=json.dumps({"Statement": [{"Principal": "*", "Action": "kms:*", "Resource": "*"}]}))
    expect_error("MalformedPolicyDocumentException", kms["admin"].create_key,
                 Policy=json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*",
                                                   "Resource": "*", "Condition": {"StringSortOf": {"a": "b"}}}]}))
    # The lockout safety check: a policy that does not let the caller change it again is refused, unless the
    # caller bypasses the check (and then really is locked out).
    alice_only = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": user("alice")},
                                            "Action": "kms:*", "Resource": "*"}]})
    expect_error("MalformedPolicyDocumentException", kms["admin"].create_key, Policy=alice_only,
                 message=re.escape("The new key policy will not allow you to update the key policy in the future."))
    locked = kms["admin"].create_key(Policy=alice_only, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["KeyId"]
    denied(kms["admin"].describe_key, principal=user("admin"), action="kms:DescribeKey", KeyId=locked)
    assert kms["alice"].describe_key(KeyId=locked)["KeyMetadata"]["KeyId"] == locked
    expect_error("MalformedPolicyDocumentException", kms["alice"].put_key_policy, KeyId=locked, PolicyName="default",
                 Policy=tenant_policy())


def test_the_encryption_sdk_works_for_the_allowed_user_only(coffer, kms, tenant_key, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", coffer.endpoint)
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

    def provider(name):
        session = botocore.session.Session()
        session.set_credentials(*coffer.keys[name])
        return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[tenant_key["Arn"]], botocore_session=session)

    message, _ = client.encrypt(source=b"through the SDK", key_provider=provider("alice"),
                                encryption_context={"tenant": "a"})
    plaintext, header = client.decrypt(source=message, key_provider=provider("alice"))
    assert plaintext == b"through the SDK" and header.encryption_context["tenant"] == "a"
    with pytest.raises(Exception):
        client.decrypt(source=message, key_provider=provider("bob"))
    with pytest.raises(Exception):
        client.encrypt(source=b"x", key_provider=provider("alice"), encryption_context={"tenant": "b"})


def test_a_grant_lets_another_user_decrypt_until_it_is_retired(kms, tenant_key):
    key = tenant_key["KeyId"]
    blob = kms["alice"].encrypt(KeyId=key, Plaintext=b"shared", EncryptionContext={"tenant": "a"})["CiphertextBlob"]
    denied(kms["bob"].decrypt, principal=user("bob"), action="kms:Decrypt", CiphertextBlob=blob,
           EncryptionContext={"tenant": "a"})
    grant = kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("bob"), Operations=["Decrypt"],
                                      RetiringPrincipal=user("alice"),
                                      Constraints={"EncryptionContextEquals": {"tenant": "a"}})
    assert re.fullmatch(r"[0-9a-f]{64}", grant["GrantId"]) and grant["GrantToken"]
    # Usable at once, for its operation and under its constraint only.
    assert kms["bob"].decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a"})["Plaintext"] == b"shared"
    denied(kms["bob"].encrypt, principal=user("bob"), action="kms:Encrypt", KeyId=key, Plaintext=b"x",
           EncryptionContext={"tenant": "a"})
    other = kms["alice"].encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "a", "extra": "1"})
    denied(kms["bob"].decrypt, principal=user("bob"), action="kms:Decrypt", CiphertextBlob=other["CiphertextBlob"],
           EncryptionContext={"tenant": "a", "extra": "1"})
    listed = kms["admin"].list_grants(KeyId=key)["Grants"]
    entry = next(g for g in listed if g["GrantId"] == grant["GrantId"])
    assert entry["GranteePrincipal"] == user("bob") and entry["RetiringPrincipal"] == user("alice")
    assert entry["Operations"] == ["Decrypt"] and entry["IssuingAccount"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert entry["Constraints"] == {"EncryptionContextEquals": {"tenant": "a"}}
    retirable = kms["alice"].list_retirable_grants(RetiringPrincipal=user("alice"))["Grants"]
    assert [g["GrantId"] for g in retirable] == [grant["GrantId"]]
    # Only the retiring principal (or the grantee given RetireGrant, or the account root) retires it.
    expect_error("AccessDeniedException", kms["bob"].retire_grant, GrantToken=grant["GrantToken"])
    kms["alice"].retire_grant(GrantToken=grant["GrantToken"])
    denied(kms["bob"].decrypt, principal=user("bob"), action="kms:Decrypt", CiphertextBlob=blob,
           EncryptionContext={"tenant": "a"})
    expect_error("NotFoundException", kms["alice"].retire_grant, GrantToken=grant["GrantToken"])


def test_grants_are_revoked_named_and_checked(kms, tenant_key):
    key = tenant_key["KeyId"]
    first = kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("carol"), Operations=["Encrypt"], Name="n1")
    again = kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("carol"), Operations=["Encrypt"], Name="n1")
    assert again["GrantId"] == first["GrantId"]
    assert kms["carol"].encrypt(KeyId=key, Plaintext=b"x")["KeyId"].endswith(key)
    kms["admin"].revoke_grant(KeyId=key, GrantId=first["GrantId"])
    denied(kms["carol"].encrypt, principal=user("carol"), action="kms:Encrypt", KeyId=key, Plaintext=b"x")
    expect_error("NotFoundException", kms["admin"].revoke_grant, KeyId=key, GrantId="0" * 64)
    expect_error("InvalidGrantIdException", kms["admin"].revoke_grant, KeyId=key, GrantId="not-a-grant-id")
    expect_error("InvalidGrantTokenException", kms["alice"].retire_grant, GrantToken="not a grant token")
    # Operations must fit the key; constraints only go with operations that take an encryption context.
    expect_error("ValidationException", kms["admin"].create_grant, KeyId=key, GranteePrincipal=user("bob"),
                 Operations=["Sign"])
    expect_error("ValidationException", kms["admin"].create_grant, KeyId=key, GranteePrincipal=user("bob"),
                 Operations=["DescribeKey"], Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    # Creating a grant is itself authorized by the key policy.
    denied(kms["bob"].create_grant, principal=user("bob"), action="kms:CreateGrant", KeyId=key,
           GranteePrincipal=user("bob"), Operations=["Decrypt"])
    # The grantee given RetireGrant may retire its own grant; the account root may retire any.
    own = kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("bob"), Operations=["Decrypt", "RetireGrant"])
    kms["bob"].retire_grant(KeyId=key, GrantId=own["GrantId"])
    rooted = kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("bob"), Operations=["Decrypt"])
    kms["root"].retire_grant(GrantToken=rooted["GrantToken"])
    assert all(g["GranteePrincipal"] != user("bob") for g in kms["admin"].list_grants(KeyId=key)["Grants"])


def audit(coffer, *args):
    done = subprocess.run([COFFER_BIN, "audit", *args, "--data-dir", os.path.join(coffer.workdir, "data")],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_every_call_is_in_the_audit_log_with_what_decided_it(coffer, kms, tenant_key):
    key = tenant_key["KeyId"]
    denied(kms["bob"].encrypt, principal=user("bob"), action="kms:Encrypt", KeyId=key, Plaintext=b"audited",
           EncryptionContext={"tenant": "a"})
    plaintext = b"a plaintext no log may hold: 7f1c"
    blob = kms["alice"].encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext={"tenant": "a"})
    data_key = kms["alice"].generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"tenant": "a"})
    code, out, err = audit(coffer, "verify")
    assert code == 0 and "audit log intact" in out, err
    code, out, err = audit(coffer, "tail", "-n", "2")
    assert code == 0 and len(out.splitlines()) == 2, err
    code, out, err = audit(coffer, "export")
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    refusal = [r for r in records if r["eventName"] == "Encrypt" and r.get("errorCode") == "AccessDeniedException"
               and r["userIdentity"]["arn"] == user("bob")][-1]
    assert refusal["additionalEventData"] == {"authorization": "Deny", "decidedBy": "no statement or grant allows it"}
    assert refusal["resources"][0]["ARN"] == tenant_key["Arn"] and refusal["eventSource"] == "kms.amazonaws.com"
    assert refusal["requestParameters"]["EncryptionContext"] == {"tenant": "a"}
    assert "Plaintext" not in refusal["requestParameters"]
    allowed = [r for r in records if r["eventName"] == "Encrypt" and r["userIdentity"]["arn"] == user("alice")][-1]
    assert allowed["additionalEventData"] == {"authorization": "Allow", "decidedBy": 'key policy statement "TenantA"'}
    assert allowed["requestID"] and allowed["userIdentity"]["type"] == "IAMUser"
    # GetKeyLastUsage answers from the log.
    usage = kms["admin"].get_key_last_usage(KeyId=key)
    assert usage["KeyLastUsage"]["Operation"] == "GenerateDataKey"
    assert usage["KeyLastUsage"]["KmsRequestId"] == data_key["ResponseMetadata"]["RequestId"]
    # No plaintext, data key, ciphertext or secret access key anywhere in the data directory (the store, its
    # WAL, the keys folder): the principals' secrets are sealed by the HSM.
    contents = b""
    for root, _, files in os.walk(os.path.join(coffer.workdir, "data")):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                contents += handle.read()
    assert len(contents) > 10000
    secrets = [secret.encode() for _, secret in coffer.keys.values()]
    for secret_bytes in (plaintext, data_key["Plaintext"], blob["CiphertextBlob"], *secrets):
        for form in (secret_bytes, secret_bytes.hex().encode(), base64.b64encode(secret_bytes)):
            assert form not in contents
    # An edited record is found and named.
    database = sqlite3.connect(os.path.join(coffer.workdir, "data", "coffer.sqlite"), timeout=30)
    database.execute("UPDATE audit_log SET record = replace(record, 'Deny', 'Allow') WHERE event_id = ?",
                     (refusal["eventID"],))
    database.commit()
    sequence = database.execute("SELECT seq FROM audit_log WHERE event_id = ?", (refusal["eventID"],)).fetchone()[0]
    database.close()
    code, out, err = audit(coffer, "verify")
    assert code == 1 and "record %d" % sequence in err, (out, err)


def test_a_grant_allows_only_grants_within_its_own_terms(kms, tenant_key):
    key = tenant_key["KeyId"]
    kms["admin"].create_grant(KeyId=key, GranteePrincipal=user("bob"), Operations=["CreateGrant", "Decrypt"],
                              Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    # bob, allowed CreateGrant by that grant only, cannot give carol more than it holds.
    expect_error("AccessDeniedException", kms["bob"].create_grant, KeyId=key, GranteePrincipal=user("carol"),
                 Operations=["Encrypt"], Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    expect_error("AccessDeniedException", kms["bob"].create_grant, KeyId=key, GranteePrincipal=user("carol"),
                 Operations=["Decrypt"])
    kms["bob"].create_grant(KeyId=key, GranteePrincipal=user("carol"), Operations=["Decrypt"],
                            Constraints={"EncryptionContextEquals": {"tenant": "a", "x": "y"}})


def test_source_address_and_unsupplied_keys(kms):
    def only_from(cidr):
        return json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user("admin")}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": user("alice")}, "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}]})
    local = kms["admin"].create_key(Policy=only_from("127.0.0.0/8"))["KeyMetadata"]["KeyId"]
    assert kms["alice"].encrypt(KeyId=local, Plaintext=b"x")["KeyId"].endswith(local)
    remote = kms["admin"].create_key(Policy=only_from("10.0.0.0/8"))["KeyMetadata"]["KeyId"]
    denied(kms["alice"].encrypt, principal=user("alice"), action="kms:Encrypt", KeyId=remote, Plaintext=b"x")
    # A condition key Coffer never supplies would make a Deny silently never apply: refused when set.
    tagged = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user("admin")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}]})
    expect_error("MalformedPolicyDocumentException", kms["admin"].put_key_policy, KeyId=local, PolicyName="default",
                 Policy=tagged, message=r".*aws:resourcetag/env.*")
