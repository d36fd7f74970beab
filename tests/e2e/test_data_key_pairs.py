"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext against a real `coffer dev`, checked with
Python's `cryptography`: the private key is PKCS#8 DER whose public key is the SubjectPublicKeyInfo
returned beside it, its ciphertext opens with Decrypt under the same encryption context only, and no
private key is found in the data directory afterwards in any form."""
import base64
import os
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import expect_error, start_coffer

PAIRS = {
    "RSA_2048": (rsa.RSAPrivateKey, 2048), "RSA_3072": (rsa.RSAPrivateKey, 3072), "RSA_4096": (rsa.RSAPrivateKey, 4096),
    "ECC_NIST_P256": (ec.EllipticCurvePrivateKey, 256), "ECC_NIST_P384": (ec.EllipticCurvePrivateKey, 384),
    "ECC_NIST_P521": (ec.EllipticCurvePrivateKey, 521), "ECC_NIST_EDWARDS25519": (ed25519.Ed25519PrivateKey, None),
}


def spki(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def check_pair(kind, size, private_der, public_der):
    private_key = serialization.load_der_private_key(private_der, password=None)
    assert isinstance(private_key, kind)
    if size is not None:
        assert private_key.key_size == size
    assert spki(private_key) == public_der
    return private_key


@pytest.fixture(scope="module")
def server():
    workdir = tempfile.mkdtemp(prefix="coffer-pairs-")
    started = start_coffer("--data-dir", os.path.join(workdir, "data"), workdir=workdir)
    started.data_dir = os.path.join(workdir, "data")
    yield started
    started.stop()


def test_pairs_of_every_spec_match_their_public_keys_and_open_with_decrypt(server):
    kms = server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    seen = []
    for spec, (kind, size) in PAIRS.items():
        pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec=spec, EncryptionContext={"purpose": spec})
        assert pair["KeyPairSpec"] == spec and pair["KeyId"].endswith(key)
        check_pair(kind, size, pair["PrivateKeyPlaintext"], pair["PublicKey"])
        opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"purpose": spec})
        assert opened["Plaintext"] == pair["PrivateKeyPlaintext"]
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=pair["PrivateKeyCiphertextBlob"],
                     EncryptionContext={"purpose": "another"})
        seen.append(pair["PrivateKeyPlaintext"])

        sealed = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec=spec)
        assert "PrivateKeyPlaintext" not in sealed and sealed["KeyPairSpec"] == spec
        private_der = kms.decrypt(CiphertextBlob=sealed["PrivateKeyCiphertextBlob"])["Plaintext"]
        check_pair(kind, size, private_der, sealed["PublicKey"])
        seen.append(private_der)
    assert len(set(seen)) == len(seen), "every pair is fresh"
    server.private_keys = seen


def test_wrong_keys_specs_and_dry_runs_are_refused(server):
    kms = server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for spec in ("SM2", "ECC_SECG_P256K1"):
        response = expect_error("UnsupportedOperationException", kms.generate_data_key_pair, KeyId=key,
                                KeyPairSpec=spec)
        assert spec in response["Error"]["Message"]
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    expect_error("InvalidKeyUsageException", kms.generate_data_key_pair, KeyId=signer, KeyPairSpec="ECC_NIST_P256")
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    expect_error("InvalidKeyUsageException", kms.generate_data_key_pair_without_plaintext, KeyId=rsa_key,
                 KeyPairSpec="ECC_NIST_P256")
    expect_error("DryRunOperationException", kms.generate_data_key_pair, KeyId=key, KeyPairSpec="ECC_NIST_P256",
                 DryRun=True)
    expect_error("DryRunOperationException", kms.generate_data_key_pair_without_plaintext, KeyId=key,
                 KeyPairSpec="RSA_2048", DryRun=True)
    kms.disable_key(KeyId=key)
    expect_error("DisabledException", kms.generate_data_key_pair, KeyId=key, KeyPairSpec="ECC_NIST_P256")


def test_no_private_key_is_in_the_data_directory(server):
    """Every key spec created and used, every pair made: none of the pairs' private keys is on disk, raw,
    hex or base64, in any file of the data directory (SQLite's database, WAL and the dev files)."""
    kms = server.client()
    peer = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for spec, usage in [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("RSA_2048", "SIGN_VERIFY"),
                        ("RSA_3072", "ENCRYPT_DECRYPT"), ("RSA_4096", "SIGN_VERIFY"), ("ECC_NIST_P256", "SIGN_VERIFY"),
                        ("ECC_NIST_P384", "SIGN_VERIFY"), ("ECC_NIST_P384", "KEY_AGREEMENT"),
                        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"), ("ECC_NIST_P521", "SIGN_VERIFY"),
                        ("ML_DSA_65", "SIGN_VERIFY"), ("ML_DSA_87", "SIGN_VERIFY"),
                        ("HMAC_224", "GENERATE_VERIFY_MAC"), ("HMAC_256", "GENERATE_VERIFY_MAC"),
                        ("HMAC_384", "GENERATE_VERIFY_MAC"), ("HMAC_512", "GENERATE_VERIFY_MAC")]:
        key = kms.create_key(KeySpec=spec, KeyUsage=usage, MultiRegion=spec.startswith("HMAC"))["KeyMetadata"]
        # Every key is used once, so whatever its use writes is on disk too.
        if usage == "SIGN_VERIFY":
            kms.sign(KeyId=key["KeyId"], Message=b"used", SigningAlgorithm=key["SigningAlgorithms"][0])
        elif usage == "GENERATE_VERIFY_MAC":
            kms.generate_mac(KeyId=key["KeyId"], Message=b"used", MacAlgorithm=key["MacAlgorithms"][0])
        elif usage == "KEY_AGREEMENT":
            kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer)
        else:
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"used", EncryptionAlgorithm=key["EncryptionAlgorithms"][-1])
    private_keys = getattr(server, "private_keys", None)
    assert private_keys, "the pairs test ran first in this module"
    files = []
    for folder, _, names in os.walk(server.data_dir):
        files += [os.path.join(folder, name) for name in names]
    assert any(name.endswith(".sqlite") or ".sqlite" in name or name.endswith(".db") for name in files), files
    contents = b"".join(open(path, "rb").read() for path in files)
    for der in private_keys:
        # The private scalar or seed is the secret inside the DER; every form of the whole DER and of its
        # last 32 bytes (the Ed25519 seed, the tail of an RSA or ECC key) is looked for.
        for needle in (der, der[-32:]):
            for form in (needle, needle.hex().encode(), needle.hex().upper().encode(), base64.b64encode(needle)):
                assert form not in contents
