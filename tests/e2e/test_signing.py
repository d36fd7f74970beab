"""Signing and MAC keys of a real `coffer dev` process, driven by boto3 and checked by an independent
implementation: every signature Coffer makes verifies with Python's `cryptography` under the public key
GetPublicKey returns, signatures `cryptography` makes are judged by Coffer's Verify, and MACs verify in
Coffer and are deterministic. Each wrong-usage call answers AWS's error name and status."""
import hashlib
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from conftest import expect_error

#: Each ECC spec, its one algorithm and the hash it signs with.
ECC = {
    "ECC_NIST_P256": ("ECDSA_SHA_256", hashes.SHA256(), ec.SECP256R1),
    "ECC_NIST_P384": ("ECDSA_SHA_384", hashes.SHA384(), ec.SECP384R1),
    "ECC_NIST_P521": ("ECDSA_SHA_512", hashes.SHA512(), ec.SECP521R1),
}
HMAC = {"HMAC_256": ("HMAC_SHA_256", 32), "HMAC_384": ("HMAC_SHA_384", 48), "HMAC_512": ("HMAC_SHA_512", 64)}


def create(kms, spec, usage):
    return kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]


def public_key(kms, key_id):
    answer = kms.get_public_key(KeyId=key_id)
    return answer, serialization.load_der_public_key(answer["PublicKey"])


@pytest.mark.parametrize("spec", sorted(ECC))
def test_ecdsa_signatures_verify_both_ways(kms, spec):
    algorithm, hash_algorithm, curve = ECC[spec]
    key = create(kms, spec, "SIGN_VERIFY")
    assert key["KeySpec"] == spec and key["KeyUsage"] == "SIGN_VERIFY"
    assert key["SigningAlgorithms"] == [algorithm] and "EncryptionAlgorithms" not in key
    answer, public = public_key(kms, key["KeyId"])
    assert isinstance(public.curve, curve)
    assert answer["KeySpec"] == spec and answer["KeyUsage"] == "SIGN_VERIFY"
    assert answer["SigningAlgorithms"] == [algorithm] and answer["KeyId"] == key["Arn"]

    for message in (b"m", os.urandom(4096)):
        signed = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm=algorithm)
        assert signed["SigningAlgorithm"] == algorithm and signed["KeyId"] == key["Arn"]
        public.verify(signed["Signature"], message, ec.ECDSA(hash_algorithm))
        assert kms.verify(KeyId=key["KeyId"], Message=message, Signature=signed["Signature"],
                          SigningAlgorithm=algorithm)["SignatureValid"] is True

    # DIGEST: the caller hashes; the signature is over the same digest either way.
    digest = hashlib.new(hash_algorithm.name, b"digested").digest()
    signed = kms.sign(KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
    public.verify(signed["Signature"], digest, ec.ECDSA(utils.Prehashed(hash_algorithm)))
    public.verify(signed["Signature"], b"digested", ec.ECDSA(hash_algorithm))
    assert kms.verify(KeyId=key["KeyId"], Message=b"digested", Signature=signed["Signature"],
                      SigningAlgorithm=algorithm)["SignatureValid"] is True

    # A tampered signature, another message, a signature by another key: KMSInvalidSignatureException.
    tampered = bytearray(signed["Signature"])
    tampered[-1] ^= 1
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=digest,
                 MessageType="DIGEST", Signature=bytes(tampered), SigningAlgorithm=algorithm)
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"other",
                 Signature=signed["Signature"], SigningAlgorithm=algorithm)
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"m",
                 Signature=b"\x30\x00", SigningAlgorithm=algorithm)

    # A signature cryptography makes with another key of the curve fails; Coffer's own key's do not exist
    # outside the HSM, so the positive direction is Coffer's signature verified by cryptography (above).
    stranger = ec.generate_private_key(curve())
    foreign = stranger.sign(b"m", ec.ECDSA(hash_algorithm))
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"m", Signature=foreign,
                 SigningAlgorithm=algorithm)

    # Wrong algorithm for the spec; a digest of the wrong size.
    other = "ECDSA_SHA_384" if algorithm != "ECDSA_SHA_384" else "ECDSA_SHA_256"
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m", SigningAlgorithm=other)
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="RSASSA_PSS_SHA_256")
    expect_error("ValidationException", kms.sign, KeyId=key["KeyId"], Message=digest[:-1], MessageType="DIGEST",
                 SigningAlgorithm=algorithm)
    expect_error("ValidationException", kms.sign, KeyId=key["KeyId"], Message=digest + b"x", MessageType="DIGEST",
                 SigningAlgorithm=algorithm)
    # A signing key neither encrypts nor MACs, and does not rotate.
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    expect_error("InvalidKeyUsageException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")
    expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=key["KeyId"], Message=b"x",
                 MacAlgorithm="HMAC_SHA_256")
    expect_error("UnsupportedOperationException", kms.enable_key_rotation, KeyId=key["KeyId"])
    expect_error("UnsupportedOperationException", kms.rotate_key_on_demand, KeyId=key["KeyId"])


def test_ed25519_signatures_verify_both_ways(kms):
    key = create(kms, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    assert key["SigningAlgorithms"] == ["ED25519_SHA_512", "ED25519_PH_SHA_512"]
    answer, public = public_key(kms, key["KeyId"])
    assert isinstance(public, ed25519.Ed25519PublicKey)
    for message in (b"m", os.urandom(4096)):
        signed = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm="ED25519_SHA_512")
        assert len(signed["Signature"]) == 64
        public.verify(signed["Signature"], message)
        assert kms.verify(KeyId=key["KeyId"], Message=message, Signature=signed["Signature"],
                          SigningAlgorithm="ED25519_SHA_512")["SignatureValid"] is True
    signed = kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ED25519_SHA_512")["Signature"]
    with pytest.raises(InvalidSignature):
        public.verify(signed, b"n")
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"n", Signature=signed,
                 SigningAlgorithm="ED25519_SHA_512")
    foreign = ed25519.Ed25519PrivateKey.generate().sign(b"m")
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"m", Signature=foreign,
                 SigningAlgorithm="ED25519_SHA_512")
    # Pure Ed25519 signs RAW messages only; the pre-hashed variant is not built (swift-crypto has no Ed25519ph).
    expect_error("ValidationException", kms.sign, KeyId=key["KeyId"], Message=b"m", MessageType="DIGEST",
                 SigningAlgorithm="ED25519_SHA_512")
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")


@pytest.mark.parametrize("spec", sorted(HMAC))
def test_hmac_keys_generate_and_verify_macs(kms, spec):
    algorithm, size = HMAC[spec]
    key = create(kms, spec, "GENERATE_VERIFY_MAC")
    assert key["KeySpec"] == spec and key["MacAlgorithms"] == [algorithm]
    for message in (b"m", os.urandom(4096)):
        mac = kms.generate_mac(KeyId=key["KeyId"], Message=message, MacAlgorithm=algorithm)
        assert len(mac["Mac"]) == size and mac["MacAlgorithm"] == algorithm and mac["KeyId"] == key["Arn"]
        again = kms.generate_mac(KeyId=key["KeyId"], Message=message, MacAlgorithm=algorithm)["Mac"]
        assert again == mac["Mac"], "HMAC is deterministic"
        assert kms.verify_mac(KeyId=key["KeyId"], Message=message, Mac=mac["Mac"],
                              MacAlgorithm=algorithm)["MacValid"] is True
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm=algorithm)["Mac"]
    other = create(kms, spec, "GENERATE_VERIFY_MAC")
    assert kms.generate_mac(KeyId=other["KeyId"], Message=b"m", MacAlgorithm=algorithm)["Mac"] != mac
    for wrong in (mac[:-1], bytes([mac[0] ^ 1]) + mac[1:], mac + b"\0", b"\0" * 100):
        expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=key["KeyId"], Message=b"m", Mac=wrong,
                     MacAlgorithm=algorithm)
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=other["KeyId"], Message=b"m", Mac=mac,
                 MacAlgorithm=algorithm)
    wrong_algorithm = "HMAC_SHA_512" if algorithm != "HMAC_SHA_512" else "HMAC_SHA_256"
    expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=key["KeyId"], Message=b"m",
                 MacAlgorithm=wrong_algorithm)
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("UnsupportedOperationException", kms.get_public_key, KeyId=key["KeyId"])
    expect_error("UnsupportedOperationException", kms.enable_key_rotation, KeyId=key["KeyId"])


def test_symmetric_keys_neither_sign_nor_mac(kms):
    key = kms.create_key()["KeyMetadata"]
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("InvalidKeyUsageException", kms.verify, KeyId=key["KeyId"], Message=b"m", Signature=b"s",
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=key["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256")
    expect_error("InvalidKeyUsageException", kms.verify_mac, KeyId=key["KeyId"], Message=b"m", Mac=b"m",
                 MacAlgorithm="HMAC_SHA_256")
    expect_error("UnsupportedOperationException", kms.get_public_key, KeyId=key["KeyId"])


def test_key_states_and_dry_runs_apply(kms):
    key = create(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    expect_error("DryRunOperationException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256", DryRun=True)
    kms.disable_key(KeyId=key["KeyId"])
    expect_error("DisabledException", kms.sign, KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    expect_error("DisabledException", kms.get_public_key, KeyId=key["KeyId"])
    kms.enable_key(KeyId=key["KeyId"])
    kms.create_alias(AliasName="alias/signer-%s" % key["KeyId"][:8], TargetKeyId=key["KeyId"])
    signed = kms.sign(KeyId="alias/signer-%s" % key["KeyId"][:8], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert signed["KeyId"] == key["Arn"]
    mac = create(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    expect_error("DryRunOperationException", kms.generate_mac, KeyId=mac["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256", DryRun=True)


def test_specs_and_usages_not_served_are_refused_by_name(kms):
    for spec, usage in [("ECC_SECG_P256K1", "SIGN_VERIFY"), ("SM2", "SIGN_VERIFY"), ("ML_DSA_44", "SIGN_VERIFY"),
                        ("RSA_2048", "SIGN_VERIFY"), ("HMAC_224", "GENERATE_VERIFY_MAC"),
                        ("ECC_NIST_P256", "KEY_AGREEMENT")]:
        response = expect_error("UnsupportedOperationException", kms.create_key, KeySpec=spec, KeyUsage=usage)
        assert spec in response["Error"]["Message"]
    expect_error("ValidationException", kms.create_key, KeySpec="HMAC_256", KeyUsage="SIGN_VERIFY")
    expect_error("ValidationException", kms.create_key, KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="KEY_AGREEMENT")
