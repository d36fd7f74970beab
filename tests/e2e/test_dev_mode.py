"""`coffer dev` for test pipelines: --seed, --ephemeral, --allow-reset (the signed CofferDev.Reset call),
a persistent --data-dir re-seeded, and bad seed files refused."""
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import assert_raw_error, expect_error, key_arn, reset, run_coffer_to_exit, start_coffer

ACCOUNT = "000000000000"
PAYMENTS = "0b8d6c1e-2f4a-4c55-9d0e-6a1f3e2b7c90"
RETIRED = "5c2f1e8a-7b3d-4e9f-a1c2-d3e4f5a6b7c8"
SEED = """\
keys:
  - id: %s
    description: payment tokens
    aliases: [alias/payments, alias/payments-v2]
    tags: {team: payments, env: test}
    rotationPeriodInDays: 180
  # No id: derived from the scope and the first alias, the same on every start.
  - region: eu-west-1
    description: monthly reports
    aliases: [alias/reports]
    tags:
      team: reports
  - id: %s
    region: eu-west-1
    account: "%s"
    description: retired
    enabled: false
""" % (PAYMENTS, RETIRED, ACCOUNT)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def seed_file():
    folder = tempfile.mkdtemp(prefix="coffer-seed-")
    path = os.path.join(folder, "seed.yaml")
    with open(path, "w") as handle:
        handle.write(SEED)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def seeded(seed_file):
    """`coffer dev --ephemeral --seed` (no --allow-reset)."""
    server = start_coffer("--ephemeral", "--seed", seed_file)
    yield server
    server.stop()


def snapshot(server):
    """Everything a client can see of the dev account, per region: keys (with metadata, tags, rotation) and
    aliases."""
    state = {}
    for region in REGIONS + ("ap-northeast-1",):
        kms = server.client(region=region)
        listing = kms.list_keys(Limit=1000)
        assert not listing["Truncated"]
        keys = {}
        for entry in listing["Keys"]:
            meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
            rotation = kms.get_key_rotation_status(KeyId=entry["KeyId"])
            tags = kms.list_resource_tags(KeyId=entry["KeyId"])["Tags"]
            keys[entry["KeyId"]] = {
                "Arn": meta["Arn"], "Description": meta["Description"], "KeyState": meta["KeyState"],
                "Enabled": meta["Enabled"], "KeySpec": meta["KeySpec"], "KeyUsage": meta["KeyUsage"],
                "AWSAccountId": meta["AWSAccountId"],
                "Tags": sorted((t["TagKey"], t["TagValue"]) for t in tags),
                "Rotation": (rotation["KeyRotationEnabled"], rotation.get("RotationPeriodInDays")),
            }
        aliases = {a["AliasName"]: a["TargetKeyId"] for a in kms.list_aliases(Limit=1000)["Aliases"]
                   if not a["AliasName"].startswith("alias/aws/")}
        state[region] = {"keys": keys, "aliases": aliases}
    return state


def derived_id(state):
    return state["eu-west-1"]["aliases"]["alias/reports"]


def expected_state(derived):
    def key(region, key_id, description, state="Enabled", tags=(), rotation=(False, None)):
        return {"Arn": key_arn(None, key_id, region=region, account=ACCOUNT), "Description": description,
                "KeyState": state, "Enabled": state == "Enabled", "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT", "AWSAccountId": ACCOUNT, "Tags": sorted(tags), "Rotation": rotation}
    return {
        "us-east-1": {
            "keys": {PAYMENTS: key("us-east-1", PAYMENTS, "payment tokens",
                                   tags=[("env", "test"), ("team", "payments")], rotation=(True, 180))},
            "aliases": {"alias/payments": PAYMENTS, "alias/payments-v2": PAYMENTS}},
        "eu-west-1": {
            "keys": {derived: key("eu-west-1", derived, "monthly reports", tags=[("team", "reports")]),
                     RETIRED: key("eu-west-1", RETIRED, "retired", state="Disabled")},
            "aliases": {"alias/reports": derived}},
        "ap-northeast-1": {"keys": {}, "aliases": {}},
    }


def test_seeded_keys_and_aliases_are_exactly_the_seed(seeded):
    state = snapshot(seeded)
    derived = derived_id(state)
    assert UUID.fullmatch(derived) and derived not in (PAYMENTS, RETIRED)
    assert state == expected_state(derived)


def test_seeded_keys_behave_as_their_seed_says(seeded):
    east, west = seeded.client(region="us-east-1"), seeded.client(region="eu-west-1")
    status = east.get_key_rotation_status(KeyId=PAYMENTS)
    assert status["KeyId"] == PAYMENTS and status["RotationPeriodInDays"] == 180
    next_rotation = status["NextRotationDate"].timestamp()
    assert abs(next_rotation - (time.time() + 180 * 86400)) < 3600
    for name in ("alias/payments", "alias/payments-v2", key_arn(seeded, PAYMENTS, account=ACCOUNT)):
        blob = east.encrypt(KeyId=name, Plaintext=b"seeded")["CiphertextBlob"]
        assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"seeded"
    assert west.describe_key(KeyId="alias/reports")["KeyMetadata"]["Description"] == "monthly reports"
    expect_error("DisabledException", west.encrypt, KeyId=RETIRED, Plaintext=b"x",
                 message=re.escape("%s is disabled." % key_arn(seeded, RETIRED, region="eu-west-1", account=ACCOUNT)))
    # The seed's scopes are the only ones with keys: us-east-1 has no alias/reports, eu-west-1 no payments key.
    expect_error("NotFoundException", east.describe_key, KeyId="alias/reports")
    expect_error("NotFoundException", west.describe_key, KeyId=PAYMENTS)


def test_a_second_start_with_the_same_seed_gives_the_same_ids(seeded, seed_file):
    first = snapshot(seeded)
    again = start_coffer("--ephemeral", "--seed", seed_file)
    try:
        second = snapshot(again)
    finally:
        again.stop()
    assert derived_id(second) == derived_id(first)
    assert second == first


def test_reset_is_refused_without_allow_reset(seeded):
    assert_raw_error(reset(seeded), "UnknownOperationException", 400)
    assert_raw_error(reset(seeded, reseed=True), "UnknownOperationException", 400)
    assert snapshot(seeded) == expected_state(derived_id(snapshot(seeded)))


def test_reset_deletes_every_key_and_reseed_brings_the_seed_back(seed_file):
    server = start_coffer("--ephemeral", "--allow-reset", "--seed", seed_file)
    try:
        seeded_state = snapshot(server)
        east = server.client(region="us-east-1")
        extra = east.create_key(Description="not seeded")["KeyMetadata"]["KeyId"]
        east.create_alias(AliasName="alias/extra", TargetKeyId=extra)
        server.client(region="ap-northeast-1").create_key(Description="elsewhere")
        east.update_key_description(KeyId=PAYMENTS, Description="changed")

        # The reset call must be signed by a known caller: unsigned or badly signed, nothing happens.
        request = urllib.request.Request(server.endpoint + "/", data=b"{}", method="POST", headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CofferDev.Reset"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (400, 403)
        assert_raw_error(reset(server, secret_key="wrong"), "InvalidSignatureException", 400)
        assert_raw_error(reset(server, access_key="AKIDUNKNOWN"), "UnrecognizedClientException", 400)
        assert extra in [k["KeyId"] for k in east.list_keys()["Keys"]]

        status, _, body = reset(server)
        assert status == 200 and body == {}
        for region in REGIONS + ("ap-northeast-1", "ap-southeast-2"):
            kms = server.client(region=region)
            assert kms.list_keys()["Keys"] == [] and not kms.list_keys()["Truncated"]
            assert [a for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")] == []
        expect_error("NotFoundException", east.describe_key, KeyId=PAYMENTS)
        expect_error("NotFoundException", east.describe_key, KeyId="alias/payments")

        status, _, body = reset(server, reseed=True)
        assert status == 200 and body == {}
        assert snapshot(server) == seeded_state  # the seed's keys (description as seeded), nothing else
        # The reseeded keys work; reset then reseed again is the same.
        blob = east.encrypt(KeyId="alias/payments", Plaintext=b"again")["CiphertextBlob"]
        assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"again"
        assert reset(server, reseed=True)[0] == 200
        assert snapshot(server) == seeded_state
    finally:
        server.stop()


def test_persistent_data_dir_reseeded_changes_nothing(seed_file):
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    try:
        first = start_coffer("--data-dir", data, "--seed", seed_file, workdir=workdir)
        try:
            before = snapshot(first)
            assert before == expected_state(derived_id(before))
            east = first.client(region="us-east-1")
            blob = east.encrypt(KeyId="alias/payments", Plaintext=b"kept")["CiphertextBlob"]
            extra = east.create_key(Description="made between starts")["KeyMetadata"]["KeyId"]
            east.update_key_description(KeyId=PAYMENTS, Description="edited by a test")
            changed = snapshot(first)
        finally:
            first.stop()
        second = start_coffer("--data-dir", data, "--seed", seed_file, workdir=workdir)
        try:
            after = snapshot(second)
            east = second.client(region="us-east-1")
            assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
        finally:
            second.stop()
        # Same keys, same aliases, no duplicates; the seed did not overwrite what was changed since.
        assert after == changed
        assert sorted(after["us-east-1"]["keys"]) == sorted([PAYMENTS, extra])
        assert after["us-east-1"]["keys"][PAYMENTS]["Description"] == "edited by a test"
        assert derived_id(after) == derived_id(before)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_ephemeral_run_leaves_its_working_directory_empty(seed_file):
    cwd = tempfile.mkdtemp(prefix="coffer-cwd-")
    logs = tempfile.mkdtemp(prefix="coffer-log-")
    try:
        server = start_coffer("--ephemeral", "--allow-reset", "--seed", seed_file, cwd=cwd, workdir=logs)
        try:
            kms = server.client()
            key = kms.create_key(Description="in memory")["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName="alias/in-memory", TargetKeyId=key)
            kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "b"}])
            kms.rotate_key_on_demand(KeyId=key)
            blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
            assert reset(server, reseed=True)[0] == 200
            assert os.listdir(cwd) == []
        finally:
            server.stop()
        assert os.listdir(cwd) == []
        assert not os.path.exists(os.path.join(cwd, ".coffer"))
        # The contrast: without --ephemeral the default data directory is ./.coffer.
        persistent = start_coffer(cwd=cwd, workdir=logs)
        persistent.stop()
        assert os.path.isdir(os.path.join(cwd, ".coffer"))
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)


BAD_SEEDS = {
    "unknown member": ("keys:\n  - id: %s\n    colour: blue\n" % PAYMENTS, r"colour"),
    "bad key id": ("keys:\n  - id: not-a-uuid\n    description: typo\n", r"not-a-uuid"),
    "neither id nor alias": ("keys:\n  - description: nameless\n", r"(?i)id|alias"),
    "unknown top-level member": ("keys: []\nkees: []\n", r"kees|keys"),
    "rotation not a number": ("keys:\n  - id: %s\n    rotationPeriodInDays: soon\n" % PAYMENTS,
                              r"rotationPeriodInDays"),
    "not YAML": ("keys: [unclosed\n", r"(?i)yaml"),
}


@pytest.mark.parametrize("problem", list(BAD_SEEDS))
def test_bad_seed_file_is_refused_with_a_message(problem):
    text, named = BAD_SEEDS[problem]
    folder = tempfile.mkdtemp(prefix="coffer-seed-")
    try:
        path = os.path.join(folder, "bad.yaml")
        with open(path, "w") as handle:
            handle.write(text)
        code, output = run_coffer_to_exit("--ephemeral", "--seed", path)
        # Exits by itself (no crash: a signal gives a negative code), non-zero, before serving.
        assert code > 0, "exit %s:\n%s" % (code, output)
        assert "export " not in output
        assert "crashed" not in output.lower() and "backtrac" not in output.lower(), output
        assert re.search(named, output), output
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_data_directory_is_for_its_user_only():
    # Keys and the SQLite file (with its WAL) are 0600 from the moment they exist, folders 0700; an
    # existing data directory that was more open is tightened. No credentials file is written: the admin's
    # secret is sealed by the HSM in the store.
    workdir = tempfile.mkdtemp(prefix="coffer-e2e-")
    data = os.path.join(workdir, "data")
    os.makedirs(data, mode=0o755)
    os.chmod(data, 0o755)
    try:
        server = start_coffer("--data-dir", data, workdir=workdir)
        try:
            server.client(region="us-east-1").create_key(Description="written to the store")
            seen = []
            for root, folders, files in os.walk(data):
                assert os.stat(root).st_mode & 0o777 == 0o700, root
                for name in files:
                    mode = os.stat(os.path.join(root, name)).st_mode & 0o777
                    assert mode & 0o077 == 0, "%s is %o" % (name, mode)
                    seen.append(name)
            assert {"coffer.sqlite", "coffer.sqlite-wal"} <= set(seen), seen
            assert "credentials.json" not in seen, seen
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
