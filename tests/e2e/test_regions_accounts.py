"""Keys, aliases and tags live in the caller's (account, region): a real `coffer dev` with a persistent data
directory whose credentials.json (imported at start) holds two credentials of two accounts, driven by boto3 clients of both
accounts and several regions."""
import json
import os
import re
import shutil
import tempfile

import pytest

from conftest import MISSING_KEY, expect_error, start_coffer

ACCOUNT_A = "111122223333"
ACCOUNT_B = "444455556666"
CREDENTIALS = {"credentials": [
    # No accountId: the --account-id of the start (ACCOUNT_A).
    {"accessKeyId": "AKIDE2EACCOUNTA", "secretAccessKey": "e2e-secret-of-account-a"},
    {"accessKeyId": "AKIDE2EACCOUNTB", "secretAccessKey": "e2e-secret-of-account-b", "accountId": ACCOUNT_B},
]}


@pytest.fixture(scope="module")
def coffer():
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    os.makedirs(data, mode=0o700)
    path = os.path.join(data, "credentials.json")
    with open(path, "w") as handle:
        json.dump(CREDENTIALS, handle)
    os.chmod(path, 0o600)
    server = start_coffer("--data-dir", data, "--account-id", ACCOUNT_A, workdir=workdir)
    # Imported into the store (secrets sealed by the HSM) and removed; the printed key is dev's admin.
    assert not os.path.exists(path)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def clients(coffer):
    """Clients by (account, region)."""
    own = {"access_key": "AKIDE2EACCOUNTA", "secret_key": "e2e-secret-of-account-a"}
    other = {"access_key": "AKIDE2EACCOUNTB", "secret_key": "e2e-secret-of-account-b"}
    return {
        (ACCOUNT_A, "us-east-1"): coffer.client(region="us-east-1", **own),
        (ACCOUNT_A, "eu-west-1"): coffer.client(region="eu-west-1", **own),
        (ACCOUNT_B, "us-east-1"): coffer.client(region="us-east-1", **other),
        (ACCOUNT_B, "eu-west-1"): coffer.client(region="eu-west-1", **other),
    }


def arn(account, region, resource):
    return "arn:aws:kms:%s:%s:%s" % (region, account, resource)


@pytest.fixture(scope="module")
def home_key(clients):
    """A key of (A, us-east-1) with the alias alias/home."""
    kms = clients[(ACCOUNT_A, "us-east-1")]
    key = kms.create_key(Description="home", Tags=[{"TagKey": "t", "TagValue": "v"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/home", TargetKeyId=key["KeyId"])
    return key


def names_of(key, account=ACCOUNT_A, region="us-east-1"):
    """The four ways to name the key (and its alias/home) as its owner names it."""
    return {"key id": key["KeyId"], "key ARN": arn(account, region, "key/" + key["KeyId"]),
            "alias name": "alias/home", "alias ARN": arn(account, region, "alias/home")}


def not_found_everywhere(kms, key_id, name):
    """Every operation that takes a key name answers NotFoundException for `name`."""
    for call, extra in ((kms.describe_key, {}), (kms.encrypt, {"Plaintext": b"x"}),
                        (kms.generate_data_key, {"KeySpec": "AES_256"})):
        expect_error("NotFoundException", call, KeyId=name, **extra)
    if not name.startswith("alias/") and ":alias/" not in name:
        # Operations that take a key id or key ARN only.
        for call, extra in ((kms.disable_key, {}), (kms.get_key_policy, {"PolicyName": "default"}),
                            (kms.list_resource_tags, {}), (kms.get_key_rotation_status, {}),
                            (kms.schedule_key_deletion, {"PendingWindowInDays": 7}),
                            (kms.tag_resource, {"Tags": [{"TagKey": "x", "TagValue": "y"}]}),
                            (kms.list_aliases, {})):
            expect_error("NotFoundException", call, KeyId=name, **extra)
        expect_error("NotFoundException", kms.create_alias, AliasName="alias/stolen", TargetKeyId=name)


@pytest.mark.parametrize("how", ["key id", "key ARN", "alias name", "alias ARN"])
def test_key_is_not_found_from_another_region(clients, home_key, how):
    kms = clients[(ACCOUNT_A, "eu-west-1")]
    name = names_of(home_key)[how]
    not_found_everywhere(kms, home_key["KeyId"], name)
    if how == "key id":
        expect_error("NotFoundException", kms.describe_key, KeyId=name, message=re.escape(
            "Key '%s' does not exist" % arn(ACCOUNT_A, "eu-west-1", "key/" + home_key["KeyId"])))


@pytest.mark.parametrize("how", ["key id", "key ARN", "alias name", "alias ARN"])
def test_key_is_not_found_from_another_account(clients, home_key, how):
    kms = clients[(ACCOUNT_B, "us-east-1")]
    not_found_everywhere(kms, home_key["KeyId"], names_of(home_key)[how])


def test_arn_of_another_region_or_account_is_not_found_even_for_the_owner(clients, home_key):
    kms = clients[(ACCOUNT_A, "us-east-1")]
    key_id = home_key["KeyId"]
    assert kms.describe_key(KeyId=arn(ACCOUNT_A, "us-east-1", "key/" + key_id))["KeyMetadata"]["KeyId"] == key_id
    for region, account in (("eu-west-1", ACCOUNT_A), ("us-east-1", ACCOUNT_B), ("eu-west-1", ACCOUNT_B)):
        for resource in ("key/" + key_id, "alias/home"):
            name = arn(account, region, resource)
            expect_error("NotFoundException", kms.describe_key, KeyId=name)
            expect_error("NotFoundException", kms.encrypt, KeyId=name, Plaintext=b"x")
        expect_error("NotFoundException", kms.enable_key, KeyId=arn(account, region, "key/" + key_id))
    # Nothing was changed through those names.
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_same_alias_name_lives_independently_in_each_scope(clients):
    keys = {}
    for scope, kms in clients.items():
        keys[scope] = kms.create_key(Description="shared %s %s" % scope)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/shared", TargetKeyId=keys[scope])
    assert len(set(keys.values())) == 4
    for (account, region), kms in clients.items():
        described = kms.describe_key(KeyId="alias/shared")["KeyMetadata"]
        assert described["KeyId"] == keys[(account, region)]
        by_arn = kms.describe_key(KeyId=arn(account, region, "alias/shared"))["KeyMetadata"]
        assert by_arn["KeyId"] == keys[(account, region)]
        entries = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/shared"]
        assert entries == [dict(entries[0], AliasArn=arn(account, region, "alias/shared"),
                                TargetKeyId=keys[(account, region)])]
    # Moving or deleting it in one scope leaves the others alone.
    a_east, a_west = clients[(ACCOUNT_A, "us-east-1")], clients[(ACCOUNT_A, "eu-west-1")]
    a_west.delete_alias(AliasName="alias/shared")
    expect_error("NotFoundException", a_west.describe_key, KeyId="alias/shared")
    assert a_east.describe_key(KeyId="alias/shared")["KeyMetadata"]["KeyId"] == keys[(ACCOUNT_A, "us-east-1")]
    # An alias cannot point at a key of another scope (it names nothing there).
    expect_error("NotFoundException", a_west.create_alias, AliasName="alias/shared",
                 TargetKeyId=keys[(ACCOUNT_A, "us-east-1")])
    expect_error("NotFoundException", a_east.update_alias, AliasName="alias/shared",
                 TargetKeyId=keys[(ACCOUNT_B, "us-east-1")])


def listed(kms):
    keys = kms.list_keys(Limit=1000)
    aliases = kms.list_aliases(Limit=1000)
    assert not keys["Truncated"] and not aliases["Truncated"]
    # AWS also lists its own alias/aws/… names (no target key until used); Coffer need not have them.
    return ({k["KeyId"]: k["KeyArn"] for k in keys["Keys"]},
            {a["AliasName"]: a for a in aliases["Aliases"] if not a["AliasName"].startswith("alias/aws/")})


def test_list_keys_and_aliases_show_only_the_callers_scope(coffer):
    # Scopes of their own (regions no other test uses), so the listings are exact.
    other = {"access_key": "AKIDE2EACCOUNTB", "secret_key": "e2e-secret-of-account-b"}
    scopes = {(ACCOUNT_A, "ap-south-1"): coffer.client(region="ap-south-1"),
              (ACCOUNT_A, "sa-east-1"): coffer.client(region="sa-east-1"),
              (ACCOUNT_B, "ap-south-1"): coffer.client(region="ap-south-1", **other)}
    made = {}
    for n, ((account, region), kms) in enumerate(scopes.items()):
        made[(account, region)] = ids = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(n + 1)]
        kms.create_alias(AliasName="alias/list-%d" % n, TargetKeyId=ids[0])
    for n, ((account, region), kms) in enumerate(scopes.items()):
        keys, aliases = listed(kms)
        assert keys == {i: arn(account, region, "key/" + i) for i in made[(account, region)]}
        assert list(aliases) == ["alias/list-%d" % n]
        entry = aliases["alias/list-%d" % n]
        assert entry["AliasArn"] == arn(account, region, "alias/list-%d" % n)
        assert entry["TargetKeyId"] == made[(account, region)][0]
        # ListAliases for a key of this scope, and NotFound for a key of another.
        assert [a["AliasName"] for a in kms.list_aliases(KeyId=made[(account, region)][0])["Aliases"]] == [
            "alias/list-%d" % n]
        for other_scope, ids in made.items():
            if other_scope != (account, region):
                expect_error("NotFoundException", kms.list_aliases, KeyId=ids[0])
    # A region nobody used is empty.
    keys, aliases = listed(coffer.client(region="ca-central-1"))
    assert keys == {} and aliases == {}


def test_metadata_carries_the_callers_region_and_account(clients):
    for (account, region), kms in clients.items():
        created = kms.create_key(Description="meta")["KeyMetadata"]
        key_id = created["KeyId"]
        expected = arn(account, region, "key/" + key_id)
        assert created["Arn"] == expected and created["AWSAccountId"] == account
        described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert described["Arn"] == expected and described["AWSAccountId"] == account
        assert kms.describe_key(KeyId=expected)["KeyMetadata"]["Arn"] == expected
        assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"] == expected
        assert kms.generate_data_key(KeyId=key_id, KeySpec="AES_128")["KeyId"] == expected
        assert kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)["KeyId"] == expected
        assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == expected
        assert kms.list_keys(Limit=1000)["Keys"].count({"KeyId": key_id, "KeyArn": expected}) == 1


def test_ciphertext_does_not_decrypt_in_another_scope(clients, home_key):
    home = clients[(ACCOUNT_A, "us-east-1")]
    blob = home.encrypt(KeyId=home_key["KeyId"], Plaintext=b"regional", EncryptionContext={"c": "1"})[
        "CiphertextBlob"]
    for scope in ((ACCOUNT_A, "eu-west-1"), (ACCOUNT_B, "us-east-1"), (ACCOUNT_B, "eu-west-1")):
        kms = clients[scope]
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"c": "1"})
        expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob,
                     SourceEncryptionContext={"c": "1"}, DestinationKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        # Naming the owner's key ARN does not help: it names no key in this scope.
        expect_error("NotFoundException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"c": "1"},
                     KeyId=home_key["Arn"])
    assert home.decrypt(CiphertextBlob=blob, EncryptionContext={"c": "1"})["Plaintext"] == b"regional"


def test_tags_and_policies_are_per_scope(clients, home_key):
    home, west = clients[(ACCOUNT_A, "us-east-1")], clients[(ACCOUNT_A, "eu-west-1")]
    assert home.list_resource_tags(KeyId=home_key["KeyId"])["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    policy = json.loads(home.get_key_policy(KeyId=home_key["KeyId"], PolicyName="default")["Policy"])
    assert json.dumps(policy).count("arn:aws:iam::%s:root" % ACCOUNT_A) == 1
    b_key = clients[(ACCOUNT_B, "us-east-1")].create_key()["KeyMetadata"]["KeyId"]
    b_policy = clients[(ACCOUNT_B, "us-east-1")].get_key_policy(KeyId=b_key, PolicyName="default")["Policy"]
    assert "arn:aws:iam::%s:root" % ACCOUNT_B in b_policy and ACCOUNT_A not in b_policy
    expect_error("NotFoundException", west.untag_resource, KeyId=home_key["KeyId"], TagKeys=["t"])
    assert home.list_resource_tags(KeyId=home_key["KeyId"])["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    expect_error("NotFoundException", west.describe_key, KeyId=MISSING_KEY)
