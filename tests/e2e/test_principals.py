"""`coffer principals` against a running `coffer dev`: principals added, listed, rotated and removed from the
command line take effect on the running server (new keys at once, removed ones within the directory's refresh
bound), secrets are printed once and never listed, and bad input is refused with a clear message."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import botocore.exceptions
import pytest

from conftest import COFFER_BIN, expect_error, start_coffer

ACCOUNT = "222233334444"
#: PrincipalDirectory.refreshInterval (5 s) and 1.5 s of slack, counted from the command's exit.
REVOCATION_BOUND = 6.5
DECRYPT_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:ListKeys"], "Resource": "*"}]}


@pytest.fixture(scope="module")
def coffer():
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    server = start_coffer("--data-dir", os.path.join(workdir, "data"), "--account-id", ACCOUNT, workdir=workdir)
    server.data = os.path.join(workdir, "data")
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def principals(coffer, *args):
    done = subprocess.run([COFFER_BIN, "principals", *args, "--data-dir", coffer.data], capture_output=True,
                          text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def add(coffer, name, *args):
    code, out, err = principals(coffer, "add", name, "--json", *args)
    assert code == 0, err
    return json.loads(out)


def policy_file(coffer, name, policy):
    path = os.path.join(coffer.workdir, name)
    with open(path, "w") as handle:
        handle.write(policy if isinstance(policy, str) else json.dumps(policy))
    return path


def client(coffer, printed):
    return coffer.client(access_key=printed["AccessKeyId"], secret_key=printed["SecretAccessKey"])


def refused_within_bound(call):
    """Polls until `call` is refused as an unknown access key; fails past the bound."""
    deadline = time.monotonic() + REVOCATION_BOUND
    while time.monotonic() < deadline:
        try:
            call()
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "UnrecognizedClientException", error.response
            return
        time.sleep(0.5)
    pytest.fail("the key still worked %ss after it was removed" % REVOCATION_BOUND)


def test_the_admin_is_a_user_with_kms_star_and_a_new_principal_works_at_once(coffer):
    admin = coffer.client()
    key = admin.create_key()["KeyMetadata"]["KeyId"]
    blob = admin.encrypt(KeyId=key, Plaintext=b"for the reader")["CiphertextBlob"]
    printed = add(coffer, "reader", "--policy", policy_file(coffer, "reader.json", DECRYPT_ONLY))
    assert set(printed) == {"Arn", "AccessKeyId", "SecretAccessKey"}
    assert printed["Arn"] == "arn:aws:iam::%s:user/reader" % ACCOUNT
    assert printed["AccessKeyId"].startswith("AKIA") and len(printed["AccessKeyId"]) == 20
    assert len(printed["SecretAccessKey"]) == 40
    reader = client(coffer, printed)
    # The very next request: no restart, no waiting.
    assert reader.decrypt(CiphertextBlob=blob)["Plaintext"] == b"for the reader"
    expect_error("AccessDeniedException", reader.encrypt, KeyId=key, Plaintext=b"x")
    assert admin.describe_key(KeyId=key)["KeyMetadata"]["Enabled"]


def test_the_listing_names_principals_and_key_ids_but_never_a_secret(coffer):
    printed = add(coffer, "listed")
    code, out, err = principals(coffer, "list")
    assert code == 0, err
    assert printed["Arn"] in out and printed["AccessKeyId"] in out
    assert "arn:aws:iam::%s:user/admin" % ACCOUNT in out
    assert printed["SecretAccessKey"] not in out and coffer.secret_key not in out
    code, out, err = principals(coffer, "list", "--json")
    listing = {entry["Arn"]: entry for entry in json.loads(out)}
    assert listing[printed["Arn"]]["AccessKeyIds"] == [printed["AccessKeyId"]]
    assert listing["arn:aws:iam::%s:user/admin" % ACCOUNT]["Policy"]
    assert printed["SecretAccessKey"] not in out and "Secret" not in out


def test_rotate_key_gives_a_new_key_and_retires_the_old_one(coffer):
    printed = add(coffer, "rotating", "--policy", policy_file(coffer, "rotating.json", DECRYPT_ONLY))
    old = client(coffer, printed)
    old.list_keys(Limit=1)
    code, out, err = principals(coffer, "rotate-key", "rotating", "--json")
    assert code == 0, err
    rotated = json.loads(out)
    assert rotated["Arn"] == printed["Arn"] and rotated["AccessKeyId"] != printed["AccessKeyId"]
    client(coffer, rotated).list_keys(Limit=1)
    refused_within_bound(lambda: old.list_keys(Limit=1))
    # --keep-old keeps both until the next rotation.
    code, out, err = principals(coffer, "rotate-key", printed["Arn"], "--keep-old", "--json")
    assert code == 0, err
    client(coffer, rotated).list_keys(Limit=1)
    client(coffer, json.loads(out)).list_keys(Limit=1)


def test_remove_stops_the_principals_keys(coffer):
    printed = add(coffer, "leaving", "--role", "--policy", policy_file(coffer, "leaving.json", DECRYPT_ONLY))
    assert printed["Arn"] == "arn:aws:iam::%s:role/leaving" % ACCOUNT
    leaving = client(coffer, printed)
    leaving.list_keys(Limit=1)
    code, out, err = principals(coffer, "remove", "leaving")
    assert code == 0 and printed["Arn"] in out, err
    refused_within_bound(lambda: leaving.list_keys(Limit=1))
    code, _, err = principals(coffer, "remove", "leaving")
    assert code != 0 and "no principal is named leaving" in err


def test_the_account_root_needs_no_policy(coffer):
    printed = add(coffer, "root", "--root")
    assert printed["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    # The default key policy allows the root everything.
    root = client(coffer, printed)
    key = root.create_key()["KeyMetadata"]["KeyId"]
    assert root.describe_key(KeyId=key)["KeyMetadata"]["KeyManager"] == "CUSTOMER"


@pytest.mark.parametrize("args, message", [
    (["add", "bad/name"], "1 to 64 characters"),
    (["add", "x" * 65], "1 to 64 characters"),
    (["add", "malformed", "--policy", "MALFORMED"], "MalformedPolicyDocument"),
    (["add", "unsupported", "--policy", "UNSUPPORTED"], "aws:SourceVpc"),
    (["add", "admin"], "already"),
    (["add", "other", "--account-id", "12"], "12 digits"),
    (["add", "root", "--root", "--policy", "MALFORMED"], "no identity policy"),
    (["add", "x", "--role", "--root"], "exclude each other"),
    (["rotate-key", "nobody"], "no principal is named nobody"),
])
def test_bad_input_is_refused_with_a_clear_message(coffer, args, message):
    files = {"MALFORMED": policy_file(coffer, "malformed.json", "{\"Statement\": [}"),
             "UNSUPPORTED": policy_file(coffer, "unsupported.json", {"Statement": [
                 {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]})}
    code, out, err = principals(coffer, *[files.get(arg, arg) for arg in args])
    assert code != 0, out
    assert message.lower() in err.lower().replace("exception", ""), err
    assert "SecretAccessKey" not in out


def test_principals_need_a_dev_data_directory_or_a_store():
    scratch = tempfile.mkdtemp(prefix="coffer-e2e-")
    try:
        done = subprocess.run([COFFER_BIN, "principals", "list", "--data-dir", os.path.join(scratch, "none")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "start coffer dev first" in done.stderr
        done = subprocess.run([COFFER_BIN, "principals", "add", "x", "--store", os.path.join(scratch, "s.sqlite")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "no store at" in done.stderr
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_principals_and_the_admin_key_survive_a_restart():
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    try:
        first = start_coffer("--data-dir", data, workdir=workdir)
        first.data = data
        printed = add(first, "kept")
        first.stop()
        # With the server stopped the command opens the dev domain itself.
        code, out, err = principals(first, "list")
        assert code == 0 and printed["AccessKeyId"] in out, err
        second = start_coffer("--data-dir", data, workdir=workdir)
        try:
            assert (second.access_key, second.secret_key) == (first.access_key, first.secret_key)
            expect_error("AccessDeniedException", client(second, printed).generate_random, NumberOfBytes=8)
            second.client().generate_random(NumberOfBytes=8)
        finally:
            second.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_given_dev_credentials_join_the_admin_and_a_credentials_file_is_imported():
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    os.makedirs(data, mode=0o700)
    path = os.path.join(data, "credentials.json")
    with open(path, "w") as handle:
        json.dump({"credentials": [{"accessKeyId": "AKIDFILEUSER", "secretAccessKey": "file-user-secret",
                                    "principal": "arn:aws:iam::000000000000:user/fileuser",
                                    "policy": {"Statement": [{"Effect": "Allow", "Action": "kms:GenerateRandom",
                                                              "Resource": "*"}]}}]}, handle)
    try:
        server = start_coffer("--data-dir", data, "--access-key-id", "test", "--secret-access-key", "test",
                              workdir=workdir)
        try:
            assert (server.access_key, server.secret_key) == ("test", "test")
            server.client().create_key()
            assert not os.path.exists(path)
            user = server.client(access_key="AKIDFILEUSER", secret_key="file-user-secret")
            user.generate_random(NumberOfBytes=4)
            expect_error("AccessDeniedException", user.list_keys)
            assert "imported 1 credentials" in server.log()
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_changes_to_principals_are_audit_records(coffer):
    printed = add(coffer, "audited")
    code, out, err = principals(coffer, "rotate-key", "audited", "--json")
    assert code == 0, err
    rotated = json.loads(out)
    code, _, err = principals(coffer, "remove", "audited")
    assert code == 0, err
    done = subprocess.run([COFFER_BIN, "audit", "export", "--data-dir", coffer.data], capture_output=True, text=True,
                          timeout=60)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [r for r in records if r.get("requestParameters", {}).get("principal") == printed["Arn"]]
    assert [r["eventName"] for r in mine] == ["AddPrincipal", "RotateAccessKey", "RemovePrincipal"], mine
    assert mine[0]["requestParameters"]["accessKeyId"] == printed["AccessKeyId"]
    assert mine[1]["requestParameters"]["accessKeyId"] == rotated["AccessKeyId"]
    assert mine[0]["userIdentity"]["type"] == "LocalAdministrator"
    assert printed["SecretAccessKey"] not in done.stdout and rotated["SecretAccessKey"] not in done.stdout
    # A refused change (a duplicate) leaves no record of a change that did not happen.
    twice = add(coffer, "twice")
    code, _, _ = principals(coffer, "add", "twice")
    assert code != 0
    done = subprocess.run([COFFER_BIN, "audit", "export", "--data-dir", coffer.data], capture_output=True, text=True,
                          timeout=60)
    adds = [r for r in map(json.loads, done.stdout.splitlines())
            if r["eventName"] == "AddPrincipal" and r["requestParameters"]["principal"] == twice["Arn"]]
    assert len(adds) == 1, adds
    done = subprocess.run([COFFER_BIN, "audit", "verify", "--data-dir", coffer.data], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "intact" in done.stdout, done.stderr
