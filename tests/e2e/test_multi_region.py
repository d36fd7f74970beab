"""Multi-Region keys against a real `coffer dev`, through boto3 clients of several regions: an `mrk-` primary
in us-east-1 replicated into eu-west-1 (and further), ciphertexts, signatures and MACs that cross regions,
rotation that reaches every replica, independent key states, UpdatePrimaryRegion, PendingReplicaDeletion,
imported material that the replica must import again (the same), and every refusal AWS documents."""
import json
import os
import re
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import expect_error
from test_import import import_material

PRIMARY = "us-east-1"
REPLICA = "eu-west-1"
THIRD = "ap-southeast-2"


@pytest.fixture(scope="module")
def east(make_client):
    return make_client(region=PRIMARY)


@pytest.fixture(scope="module")
def west(make_client):
    return make_client(region=REPLICA)


@pytest.fixture(scope="module")
def south(make_client):
    return make_client(region=THIRD)


def arn(region, key_id):
    return "arn:aws:kms:%s:000000000000:key/%s" % (region, key_id)


def primary_key(kms, **kwargs):
    metadata = kms.create_key(MultiRegion=True, **kwargs)["KeyMetadata"]
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", metadata["KeyId"]), metadata
    return metadata


def test_a_primary_describes_itself_and_its_replicas(east, west):
    created = primary_key(east, Description="primary")
    key = created["KeyId"]
    assert created["MultiRegion"] is True
    assert created["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY", "PrimaryKey": {"Arn": arn(PRIMARY, key), "Region": PRIMARY},
        "ReplicaKeys": []}
    replica = east.replicate_key(KeyId=key, ReplicaRegion=REPLICA, Description="replica",
                                 Tags=[{"TagKey": "team", "TagValue": "west"}])
    metadata = replica["ReplicaKeyMetadata"]
    assert metadata["KeyId"] == key and metadata["Arn"] == arn(REPLICA, key)
    assert metadata["KeyState"] == "Enabled" and metadata["Description"] == "replica"
    assert metadata["KeySpec"] == created["KeySpec"] and metadata["KeyUsage"] == created["KeyUsage"]
    assert metadata["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA", "PrimaryKey": {"Arn": arn(PRIMARY, key), "Region": PRIMARY},
        "ReplicaKeys": [{"Arn": arn(REPLICA, key), "Region": REPLICA}]}
    assert replica["ReplicaTags"] == [{"TagKey": "team", "TagValue": "west"}]
    assert '"kms:*"' in replica["ReplicaPolicy"]
    # Each region's key keeps its own description, tags and policy.
    assert east.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "primary"
    assert east.list_resource_tags(KeyId=key)["Tags"] == []
    assert west.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "team", "TagValue": "west"}]
    described = east.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]
    assert described["MultiRegionKeyType"] == "PRIMARY"
    assert described["ReplicaKeys"] == [{"Arn": arn(REPLICA, key), "Region": REPLICA}]
    assert key in [k["KeyId"] for k in west.list_keys()["Keys"]]


def test_ciphertexts_cross_regions_both_ways(east, west):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    context = {"purpose": "multi-region"}
    blob = east.encrypt(KeyId=key, Plaintext=b"from the east", EncryptionContext=context)["CiphertextBlob"]
    answer = west.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert answer["Plaintext"] == b"from the east" and answer["KeyId"] == arn(REPLICA, key)
    assert west.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=key)["Plaintext"] == b"from the east"
    assert west.decrypt(CiphertextBlob=blob, EncryptionContext=context,
                        KeyId=arn(REPLICA, key))["Plaintext"] == b"from the east"
    expect_error("InvalidCiphertextException", west.decrypt, CiphertextBlob=blob)
    data_key = west.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert east.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    reencrypted = west.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context, DestinationKeyId=key)
    assert east.decrypt(CiphertextBlob=reencrypted["CiphertextBlob"])["Plaintext"] == b"from the east"
    # Another region's ARN names nothing here, as in AWS.
    expect_error("NotFoundException", west.encrypt, KeyId=arn(PRIMARY, key), Plaintext=b"x")


def test_rotation_reaches_every_replica(east, west):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    before = east.encrypt(KeyId=key, Plaintext=b"before")["CiphertextBlob"]
    east.rotate_key_on_demand(KeyId=key)
    after = east.encrypt(KeyId=key, Plaintext=b"after")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=before)["Plaintext"] == b"before"
    assert west.decrypt(CiphertextBlob=after)["Plaintext"] == b"after"
    west_after = west.encrypt(KeyId=key, Plaintext=b"west after")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=west_after)["Plaintext"] == b"west after"
    assert len(west.list_key_rotations(KeyId=key)["Rotations"]) == 1
    # Rotation is a shared property: set on the primary, read on every replica, refused on a replica.
    east.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = west.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    expect_error("UnsupportedOperationException", west.enable_key_rotation, KeyId=key,
                 message=r".*is a multi-Region replica key; rotate its primary key in us-east-1\.")
    expect_error("UnsupportedOperationException", west.disable_key_rotation, KeyId=key)
    expect_error("UnsupportedOperationException", west.rotate_key_on_demand, KeyId=key)


def test_a_late_replica_decrypts_old_and_new_ciphertexts(east, south):
    key = primary_key(east)["KeyId"]
    old = east.encrypt(KeyId=key, Plaintext=b"old")["CiphertextBlob"]
    east.rotate_key_on_demand(KeyId=key)
    new = east.encrypt(KeyId=key, Plaintext=b"new")["CiphertextBlob"]
    east.replicate_key(KeyId=key, ReplicaRegion=THIRD)
    assert south.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    assert south.decrypt(CiphertextBlob=new)["Plaintext"] == b"new"


def test_a_replica_verifies_what_its_primary_signed(east, west):
    key = primary_key(east, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    public = west.get_public_key(KeyId=key)["PublicKey"]
    assert public == east.get_public_key(KeyId=key)["PublicKey"]
    signature = east.sign(KeyId=key, Message=b"signed in the east", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert west.verify(KeyId=key, Message=b"signed in the east", Signature=signature,
                       SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    west_signature = west.sign(KeyId=key, Message=b"west", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    serialization.load_der_public_key(public).verify(west_signature, b"west", ec.ECDSA(hashes.SHA256()))
    mac_key = primary_key(east, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    east.replicate_key(KeyId=mac_key, ReplicaRegion=REPLICA)
    mac = east.generate_mac(KeyId=mac_key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert west.verify_mac(KeyId=mac_key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"] is True


def test_each_region_has_its_own_key_state(east, west):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    blob = east.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    west.disable_key(KeyId=key)
    expect_error("DisabledException", west.decrypt, CiphertextBlob=blob)
    assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    west.enable_key(KeyId=key)
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_replicate_key_refusals(east, west):
    single = east.create_key()["KeyMetadata"]["KeyId"]
    expect_error("UnsupportedOperationException", east.replicate_key, KeyId=single, ReplicaRegion=REPLICA,
                 message=r".* is not a multi-Region key\.")
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    expect_error("AlreadyExistsException", east.replicate_key, KeyId=key, ReplicaRegion=REPLICA)
    expect_error("AlreadyExistsException", east.replicate_key, KeyId=key, ReplicaRegion=PRIMARY)
    expect_error("UnsupportedOperationException", west.replicate_key, KeyId=key, ReplicaRegion=THIRD,
                 message=r".* is a multi-Region replica key; its primary key is in us-east-1\.")
    expect_error("ValidationException", east.replicate_key, KeyId=key, ReplicaRegion="mars")
    expect_error("NotFoundException", east.replicate_key, KeyId="mrk-" + "0" * 32, ReplicaRegion=REPLICA)
    expect_error("NotFoundException", east.replicate_key, KeyId="alias/none", ReplicaRegion=REPLICA)
    deleting = primary_key(east)["KeyId"]
    east.schedule_key_deletion(KeyId=deleting, PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", east.replicate_key, KeyId=deleting, ReplicaRegion=REPLICA)
    # The id of a key made by CreateKey with MultiRegion=false is a UUID.
    assert re.fullmatch(r"[0-9a-f-]{36}", east.create_key(MultiRegion=False)["KeyMetadata"]["KeyId"])


def test_update_primary_region_swaps_the_roles(east, west, south):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    expect_error("NotFoundException", east.update_primary_region, KeyId=key, PrimaryRegion=THIRD)
    expect_error("UnsupportedOperationException", west.update_primary_region, KeyId=key, PrimaryRegion=REPLICA)
    east.update_primary_region(KeyId=key, PrimaryRegion=REPLICA)
    west_view = west.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]
    east_view = east.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]
    assert west_view["MultiRegionKeyType"] == "PRIMARY" and east_view["MultiRegionKeyType"] == "REPLICA"
    for view in (west_view, east_view):
        assert view["PrimaryKey"] == {"Arn": arn(REPLICA, key), "Region": REPLICA}
        assert view["ReplicaKeys"] == [{"Arn": arn(PRIMARY, key), "Region": PRIMARY}]
    # Only the new primary replicates and rotates now.
    expect_error("UnsupportedOperationException", east.replicate_key, KeyId=key, ReplicaRegion=THIRD)
    west.replicate_key(KeyId=key, ReplicaRegion=THIRD)
    west.rotate_key_on_demand(KeyId=key)
    blob = west.encrypt(KeyId=key, Plaintext=b"after the swap")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after the swap"
    assert south.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after the swap"
    # Naming the primary's own region changes nothing.
    west.update_primary_region(KeyId=key, PrimaryRegion=REPLICA)
    assert west.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_every_replica_is_listed_from_every_region(east, west, south):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    east.replicate_key(KeyId=key, ReplicaRegion=THIRD)
    replicas = [{"Arn": arn(THIRD, key), "Region": THIRD}, {"Arn": arn(REPLICA, key), "Region": REPLICA}]
    for client in (east, west, south):
        configuration = client.describe_key(KeyId=key)["KeyMetadata"]["MultiRegionConfiguration"]
        assert configuration["PrimaryKey"] == {"Arn": arn(PRIMARY, key), "Region": PRIMARY}
        assert sorted(configuration["ReplicaKeys"], key=lambda r: r["Region"]) == replicas
    # A replica pending deletion cannot become the primary.
    south.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", east.update_primary_region, KeyId=key, PrimaryRegion=THIRD)


def test_a_primary_with_replicas_waits_for_their_deletion(east, west):
    key = primary_key(east)["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    answer = east.schedule_key_deletion(KeyId=key, PendingWindowInDays=9)
    assert answer["KeyState"] == "PendingReplicaDeletion" and answer["PendingWindowInDays"] == 9
    assert "DeletionDate" not in answer
    metadata = east.describe_key(KeyId=key)["KeyMetadata"]
    assert metadata["KeyState"] == "PendingReplicaDeletion" and metadata["PendingDeletionWindowInDays"] == 9
    expect_error("KMSInvalidStateException", east.encrypt, KeyId=key, Plaintext=b"x")
    expect_error("KMSInvalidStateException", east.enable_key, KeyId=key)
    # The replica is untouched and still works.
    assert west.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    blob = west.encrypt(KeyId=key, Plaintext=b"still here")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still here"
    east.cancel_key_deletion(KeyId=key)
    metadata = east.describe_key(KeyId=key)["KeyMetadata"]
    assert metadata["KeyState"] == "Disabled" and "PendingDeletionWindowInDays" not in metadata
    # A replica alone is scheduled as any key is.
    answer = west.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert answer["KeyState"] == "PendingDeletion" and "DeletionDate" in answer


def test_imported_material_must_be_imported_into_each_replica_the_same(east, west):
    key = primary_key(east, Origin="EXTERNAL")["KeyId"]
    material = os.urandom(32)
    import_material(east, key, material)
    replica = east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)["ReplicaKeyMetadata"]
    assert replica["KeyState"] == "PendingImport" and replica["Origin"] == "EXTERNAL"
    blob = east.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]
    expect_error("KMSInvalidStateException", west.decrypt, CiphertextBlob=blob)
    expect_error("IncorrectKeyMaterialException", import_material, west, key, os.urandom(32))
    answer = import_material(west, key, material)
    assert answer["KeyMaterialId"] == east.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"
    assert east.decrypt(CiphertextBlob=west.encrypt(KeyId=key, Plaintext=b"back")["CiphertextBlob"])[
        "Plaintext"] == b"back"


def test_material_imported_into_a_replica_first_binds_the_primary(east, west):
    key = primary_key(east, Origin="EXTERNAL")["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion=REPLICA)
    material = os.urandom(32)
    import_material(west, key, material)
    expect_error("IncorrectKeyMaterialException", import_material, east, key, os.urandom(32))
    import_material(east, key, material)
    blob = west.encrypt(KeyId=key, Plaintext=b"same material")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=blob)["Plaintext"] == b"same material"


def test_the_cli_replicates_a_key(coffer):
    def aws(*args, region=PRIMARY):
        done = subprocess.run(["aws", "kms", *args, "--region", region, "--output", "json"],
                              env=coffer.env(AWS_DEFAULT_REGION=region, AWS_REGION=region),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None
    key = aws("create-key", "--multi-region")["KeyMetadata"]["KeyId"]
    assert key.startswith("mrk-")
    replica = aws("replicate-key", "--key-id", key, "--replica-region", REPLICA)
    assert replica["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    described = aws("describe-key", "--key-id", key, region=REPLICA)["KeyMetadata"]
    assert described["Arn"] == arn(REPLICA, key)
