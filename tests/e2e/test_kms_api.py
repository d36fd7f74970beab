"""The KMS API of a real `coffer dev` process (the shared module server of conftest.py), driven by boto3: for
every operation a success and each error it can raise that the client lets through. Values botocore refuses
before sending (a Limit of 0, …) are sent with parameter validation off in test_member_edges.py."""
import json
import re

from conftest import expect_error

#: A key policy that lets the account's root (the dev caller) do everything, so it passes AWS's lockout check.
ROOT_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
    "Action": "kms:*", "Resource": "*"}]})


def error(code, call, **kwargs):
    """`call` fails with the AWS error `code` and its HTTP status (400; 412, 500 for the few that differ)."""
    __tracebackhide__ = True
    return expect_error(code, call, **kwargs)


def new_key(kms, **kwargs):
    return kms.create_key(**kwargs)["KeyMetadata"]


def test_create_key(kms):
    key = new_key(kms, Description="d", Tags=[{"TagKey": "t", "TagValue": "v"}])
    assert key["KeyState"] == "Enabled" and key["KeySpec"] == "SYMMETRIC_DEFAULT" and key["Arn"].endswith(key["KeyId"])
    error("UnsupportedOperationException", kms.create_key, KeySpec="ECC_SECG_P256K1")
    error("ValidationException", kms.create_key, KeyUsage="SIGN_VERIFY")
    error("MalformedPolicyDocumentException", kms.create_key, Policy="not a policy")
    error("TagException", kms.create_key, Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    assert kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"].startswith("mrk-")


def test_describe_key(kms):
    key = new_key(kms)
    kms.create_alias(AliasName="alias/describe", TargetKeyId=key["KeyId"])
    for name in (key["KeyId"], key["Arn"], "alias/describe", key["Arn"].split(":key/")[0] + ":alias/describe"):
        assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]
    error("NotFoundException", kms.describe_key, KeyId="alias/none")
    error("NotFoundException", kms.describe_key, KeyId="00000000-0000-0000-0000-000000000000", message=re.escape(
        "Key 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000' does not exist"))


def test_list_keys(kms):
    for _ in range(3):
        new_key(kms)
    page = kms.list_keys(Limit=2)
    assert len(page["Keys"]) == 2 and page["Truncated"]
    rest = kms.list_keys(Limit=1000, Marker=page["NextMarker"])
    assert {k["KeyId"] for k in page["Keys"]}.isdisjoint(k["KeyId"] for k in rest["Keys"])
    error("InvalidMarkerException", kms.list_keys, Marker="%%%not-a-marker")


def test_enable_disable_update_description(kms):
    key = new_key(kms)["KeyId"]
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key)
    kms.update_key_description(KeyId=key, Description="new")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "new"
    for call in (kms.enable_key, kms.disable_key):
        error("NotFoundException", call, KeyId="11111111-1111-1111-1111-111111111111")
    error("NotFoundException", kms.update_key_description, KeyId="11111111-1111-1111-1111-111111111111", Description="x")
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    error("KMSInvalidStateException", kms.enable_key, KeyId=key,
          message=re.escape("arn:aws:kms:us-east-1:000000000000:key/%s is pending deletion." % key))
    error("KMSInvalidStateException", kms.disable_key, KeyId=key)
    error("KMSInvalidStateException", kms.update_key_description, KeyId=key, Description="x")


def test_schedule_and_cancel_deletion(kms):
    key = new_key(kms)["KeyId"]
    error("ValidationException", kms.schedule_key_deletion, KeyId=key, PendingWindowInDays=6)
    result = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert result["KeyState"] == "PendingDeletion" and result["PendingWindowInDays"] == 7
    error("KMSInvalidStateException", kms.schedule_key_deletion, KeyId=key)
    error("KMSInvalidStateException", kms.encrypt, KeyId=key, Plaintext=b"x")
    kms.cancel_key_deletion(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    error("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=key,
          message=re.escape("arn:aws:kms:us-east-1:000000000000:key/%s is not pending deletion." % key))
    error("NotFoundException", kms.schedule_key_deletion, KeyId="11111111-1111-1111-1111-111111111111")
    error("NotFoundException", kms.cancel_key_deletion, KeyId="11111111-1111-1111-1111-111111111111")


def test_aliases(kms):
    a, b = new_key(kms)["KeyId"], new_key(kms)["KeyId"]
    kms.create_alias(AliasName="alias/one", TargetKeyId=a)
    error("AlreadyExistsException", kms.create_alias, AliasName="alias/one", TargetKeyId=b)
    # AWS reserves alias/aws/ for AWS managed keys: NotAuthorizedException, not InvalidAliasNameException.
    error("NotAuthorizedException", kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=b)
    error("ValidationException", kms.create_alias, AliasName="no-prefix", TargetKeyId=b)
    error("NotFoundException", kms.create_alias, AliasName="alias/two", TargetKeyId="11111111-1111-1111-1111-111111111111")
    kms.update_alias(AliasName="alias/one", TargetKeyId=b)
    assert [x["AliasName"] for x in kms.list_aliases(KeyId=b)["Aliases"]] == ["alias/one"]
    error("NotFoundException", kms.update_alias, AliasName="alias/missing", TargetKeyId=b)
    kms.delete_alias(AliasName="alias/one")
    error("NotFoundException", kms.delete_alias, AliasName="alias/one")
    error("NotFoundException", kms.list_aliases, KeyId="11111111-1111-1111-1111-111111111111")


def test_tags(kms):
    key = new_key(kms)["KeyId"]
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.untag_resource(KeyId=key, TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "a", "TagValue": "1"}]
    error("TagException", kms.tag_resource, KeyId=key, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    for call, extra in ((kms.tag_resource, {"Tags": [{"TagKey": "a", "TagValue": "1"}]}), (kms.untag_resource, {"TagKeys": ["a"]}),
                        (kms.list_resource_tags, {})):
        error("NotFoundException", call, KeyId="11111111-1111-1111-1111-111111111111", **extra)


def test_encrypt_decrypt_reencrypt(kms):
    key, other = new_key(kms), new_key(kms)
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext={"a": "b"})
    assert blob["KeyId"] == key["Arn"] and blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    opened = kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "b"})
    assert opened["Plaintext"] == b"secret" and opened["KeyId"] == key["Arn"]
    error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "c"})
    error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"\x01" * 100)
    error("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "b"}, KeyId=other["KeyId"])
    error("NotFoundException", kms.encrypt, KeyId="alias/none", Plaintext=b"x")
    error("ValidationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    moved = kms.re_encrypt(CiphertextBlob=blob["CiphertextBlob"], SourceEncryptionContext={"a": "b"}, DestinationKeyId=other["Arn"])
    assert moved["SourceKeyId"] == key["Arn"] and moved["KeyId"] == other["Arn"]
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"secret"
    error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob["CiphertextBlob"], DestinationKeyId=other["Arn"])
    kms.disable_key(KeyId=key["KeyId"])
    error("DisabledException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", message=re.escape("%s is disabled." % key["Arn"]))
    error("DisabledException", kms.decrypt, CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "b"})
    error("DisabledException", kms.re_encrypt, CiphertextBlob=moved["CiphertextBlob"], DestinationKeyId=key["KeyId"])


def test_data_keys_and_random(kms):
    key = new_key(kms)["KeyId"]
    data = kms.generate_data_key(KeyId=key, KeySpec="AES_128")
    assert len(data["Plaintext"]) == 16
    assert kms.decrypt(CiphertextBlob=data["CiphertextBlob"])["Plaintext"] == data["Plaintext"]
    bare = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=64)
    assert "Plaintext" not in bare and len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 64
    for call in (kms.generate_data_key, kms.generate_data_key_without_plaintext):
        error("ValidationException", call, KeyId=key)
        error("ValidationException", call, KeyId=key, KeySpec="AES_256", NumberOfBytes=32)
        error("ValidationException", call, KeyId=key, NumberOfBytes=1025)
        error("NotFoundException", call, KeyId="alias/none", KeySpec="AES_256")
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    error("ValidationException", kms.generate_random, NumberOfBytes=1025)
    kms.disable_key(KeyId=key)
    error("DisabledException", kms.generate_data_key, KeyId=key, KeySpec="AES_256")


def test_rotation(kms):
    key = new_key(kms)["KeyId"]
    before = kms.encrypt(KeyId=key, Plaintext=b"old")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key)
    assert [r["RotationType"] for r in kms.list_key_rotations(KeyId=key)["Rotations"]] == ["ON_DEMAND"]
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"old"
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=100)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 100
    kms.disable_key_rotation(KeyId=key)
    assert not kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
    error("ValidationException", kms.enable_key_rotation, KeyId=key, RotationPeriodInDays=2561)
    for call in (kms.get_key_rotation_status, kms.list_key_rotations, kms.rotate_key_on_demand, kms.enable_key_rotation, kms.disable_key_rotation):
        error("NotFoundException", call, KeyId="11111111-1111-1111-1111-111111111111")
    kms.disable_key(KeyId=key)
    for call in (kms.rotate_key_on_demand, kms.enable_key_rotation, kms.disable_key_rotation):
        error("DisabledException", call, KeyId=key)


def test_key_policies(kms):
    key = new_key(kms)["KeyId"]
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])["Version"] == "2012-10-17"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=ROOT_POLICY)
    assert kms.get_key_policy(KeyId=key)["Policy"] == ROOT_POLICY
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    error("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=key, PolicyName="default", Policy="[]")
    for call, extra in ((kms.get_key_policy, {}), (kms.list_key_policies, {}), (kms.put_key_policy, {"Policy": "{}"})):
        error("NotFoundException", call, KeyId="11111111-1111-1111-1111-111111111111", **extra)


def test_protocol_errors(coffer):
    wrong = coffer.client(access_key="AKIDUNKNOWN", secret_key="x")
    error("UnrecognizedClientException", wrong.list_keys, message=r"The security token included in the request is invalid\.")


def test_canonically_equivalent_context_keys_are_two_keys(kms):
    # "é" as one code point and as e + combining acute: two keys to AWS KMS and to Coffer (PROTOCOL §2).
    key = new_key(kms)["KeyId"]
    both = {"\u00e9": "1", "e\u0301": "2"}
    blob = kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=both)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=both)["Plaintext"] == b"x"
    error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"\u00e9": "1"})
    error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"e\u0301": "2"})
    # What a String-keyed JSON reader would have bound the blob to (one merged pair) must not decrypt it.
    for merged in ({"\u00e9": "2"}, {"e\u0301": "2"}, {"\u00e9": "1"}, {"e\u0301": "1"}):
        error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=merged)


def test_the_readme_table_of_operations_is_what_the_server_serves(coffer):
    """README.md's table of the 54 AWS KMS operations: each one marked `served` is answered (here with an
    empty body, so a validation or lookup error, never UnsupportedOperationException); each other one
    answers UnsupportedOperationException."""
    import gzip
    import os

    import botocore

    from conftest import raw_kms

    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    rows = re.findall(r"^\| ([A-Z][A-Za-z]+) \| (served|UnsupportedOperationException) \|", readme, re.M)
    model = os.path.join(os.path.dirname(botocore.__file__), "data", "kms", "2014-11-01", "service-2.json.gz")
    operations = set(json.loads(gzip.open(model).read())["operations"])
    assert {name for name, _ in rows} == operations and len(rows) == len(operations) == 54
    for name, state in rows:
        status, _, body = raw_kms(coffer, name, {})
        code = (body or {}).get("__type", "")
        if state == "served":
            assert code != "UnsupportedOperationException", (name, status, body)
        else:
            assert (status, code) == (400, "UnsupportedOperationException"), (name, status, body)
