"""Signing and MAC keys of a real `coffer dev` process, driven by boto3 and checked by an independent
implementation: every signature Coffer makes verifies with Python's `cryptography` under the public key
GetPublicKey returns, signatures `cryptography` makes are judged by Coffer's Verify, and MACs verify in
Coffer and are deterministic. Each wrong-usage call answers AWS's error name and status."""
import hashlib
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils

from conftest import expect_error

#: Each ECC spec, its one algorithm and the hash it signs with.
ECC = {
    "ECC_NIST_P256": ("ECDSA_SHA_256", hashes.SHA256(), ec.SECP256R1),
    "ECC_NIST_P384": ("ECDSA_SHA_384", hashes.SHA384(), ec.SECP384R1),
    "ECC_NIST_P521": ("ECDSA_SHA_512", hashes.SHA512(), ec.SECP521R1),
}
HMAC = {"HMAC_224": ("HMAC_SHA_224", 28), "HMAC_256": ("HMAC_SHA_256", 32), "HMAC_384": ("HMAC_SHA_384", 48),
        "HMAC_512": ("HMAC_SHA_512", 64)}


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


RSA_SIGNING = {
    "RSASSA_PSS_SHA_256": hashes.SHA256(), "RSASSA_PSS_SHA_384": hashes.SHA384(), "RSASSA_PSS_SHA_512": hashes.SHA512(),
    "RSASSA_PKCS1_V1_5_SHA_256": hashes.SHA256(), "RSASSA_PKCS1_V1_5_SHA_384": hashes.SHA384(),
    "RSASSA_PKCS1_V1_5_SHA_512": hashes.SHA512(),
}


def rsa_padding(algorithm, hash_algorithm):
    """AWS's RSA paddings: PSS with MGF1 of the same hash and a salt as long as the digest, or PKCS #1 v1.5."""
    if "PSS" in algorithm:
        return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
    return padding.PKCS1v15()


@pytest.mark.parametrize("spec,bits", [("RSA_2048", 2048), ("RSA_3072", 3072), ("RSA_4096", 4096)])
def test_rsa_signatures_verify_both_ways(kms, spec, bits):
    key = create(kms, spec, "SIGN_VERIFY")
    assert key["SigningAlgorithms"] == sorted(RSA_SIGNING, key=list(RSA_SIGNING).index)
    assert "EncryptionAlgorithms" not in key
    _, public = public_key(kms, key["KeyId"])
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == bits and public.public_numbers().e == 65537
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for algorithm, hash_algorithm in RSA_SIGNING.items():
        message = os.urandom(100)
        signed = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm=algorithm)
        assert len(signed["Signature"]) == bits // 8
        public.verify(signed["Signature"], message, rsa_padding(algorithm, hash_algorithm), hash_algorithm)
        assert kms.verify(KeyId=key["KeyId"], Message=message, Signature=signed["Signature"],
                          SigningAlgorithm=algorithm)["SignatureValid"] is True
        # DIGEST: the caller hashes; `cryptography` checks the signature over the prehashed digest and over
        # the message, and Coffer verifies it either way.
        digest = hashlib.new(hash_algorithm.name, message).digest()
        signed = kms.sign(KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
        public.verify(signed["Signature"], digest, rsa_padding(algorithm, hash_algorithm),
                      utils.Prehashed(hash_algorithm))
        public.verify(signed["Signature"], message, rsa_padding(algorithm, hash_algorithm), hash_algorithm)
        assert kms.verify(KeyId=key["KeyId"], Message=message, Signature=signed["Signature"],
                          SigningAlgorithm=algorithm)["SignatureValid"] is True
        raw_signature = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm=algorithm)["Signature"]
        assert kms.verify(KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", Signature=raw_signature,
                          SigningAlgorithm=algorithm)["SignatureValid"] is True
        other_digest = hashlib.new(hash_algorithm.name, message + b"!").digest()
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=other_digest,
                     MessageType="DIGEST", Signature=raw_signature, SigningAlgorithm=algorithm)
        for wrong in (digest[:-1], digest + b"\0"):
            expect_error("ValidationException", kms.sign, KeyId=key["KeyId"], Message=wrong, MessageType="DIGEST",
                         SigningAlgorithm=algorithm)
        foreign = stranger.sign(message, rsa_padding(algorithm, hash_algorithm), hash_algorithm)
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=message,
                     Signature=foreign, SigningAlgorithm=algorithm)
        if bits == 2048:
            break  # every algorithm once is enough for the larger sizes' key handling
    # A signing RSA key does not encrypt; an encryption algorithm does not sign.
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")


@pytest.mark.parametrize("spec,bits", [("RSA_2048", 2048), ("RSA_4096", 4096)])
def test_rsa_oaep_ciphertexts_made_outside_decrypt_inside(kms, spec, bits):
    key = create(kms, spec, "ENCRYPT_DECRYPT")
    assert key["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] and "SigningAlgorithms" not in key
    answer, public = public_key(kms, key["KeyId"])
    assert answer["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    for algorithm, hash_algorithm in (("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())):
        oaep = padding.OAEP(mgf=padding.MGF1(hash_algorithm), algorithm=hash_algorithm, label=None)
        maximum = bits // 8 - 2 * hash_algorithm.digest_size - 2
        for plaintext in (b"x", os.urandom(maximum)):
            outside = public.encrypt(plaintext, oaep)
            opened = kms.decrypt(KeyId=key["KeyId"], CiphertextBlob=outside, EncryptionAlgorithm=algorithm)
            assert opened["Plaintext"] == plaintext and opened["EncryptionAlgorithm"] == algorithm
            assert opened["KeyId"] == key["Arn"]
            inside = kms.encrypt(KeyId=key["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)
            assert len(inside["CiphertextBlob"]) == bits // 8 and inside["EncryptionAlgorithm"] == algorithm
            assert kms.decrypt(KeyId=key["KeyId"], CiphertextBlob=inside["CiphertextBlob"],
                               EncryptionAlgorithm=algorithm)["Plaintext"] == plaintext
        expect_error("ValidationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x" * (maximum + 1),
                     EncryptionAlgorithm=algorithm)
        tampered = bytearray(public.encrypt(b"secret", oaep))
        tampered[10] ^= 1
        expect_error("InvalidCiphertextException", kms.decrypt, KeyId=key["KeyId"], CiphertextBlob=bytes(tampered),
                     EncryptionAlgorithm=algorithm)
    outside = public.encrypt(b"secret", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                     label=None))
    # The other OAEP hash does not open it; no algorithm, or SYMMETRIC_DEFAULT, is the wrong usage.
    expect_error("InvalidCiphertextException", kms.decrypt, KeyId=key["KeyId"], CiphertextBlob=outside,
                 EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    expect_error("InvalidKeyUsageException", kms.decrypt, KeyId=key["KeyId"], CiphertextBlob=outside)
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="SYMMETRIC_DEFAULT")
    # Without its KeyId an RSA ciphertext names no key; asymmetric keys take no encryption context.
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=outside,
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    expect_error("ValidationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256", EncryptionContext={"a": "b"})
    # An RSA encryption key neither signs nor makes data keys.
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="RSASSA_PSS_SHA_256")
    expect_error("InvalidKeyUsageException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")


def test_re_encrypt_moves_ciphertexts_between_rsa_and_symmetric_keys(kms):
    """ReEncrypt with an RSA side: the plaintext never leaves the HSM; `cryptography` makes the RSA ciphertext
    that goes in and opens the one that comes out (with the key's private half only Coffer has, so through
    Decrypt)."""
    rsa_key = create(kms, "RSA_2048", "ENCRYPT_DECRYPT")["KeyId"]
    other_rsa = create(kms, "RSA_3072", "ENCRYPT_DECRYPT")["KeyId"]
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    _, public = public_key(kms, rsa_key)
    oaep256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    outside = public.encrypt(b"made outside", oaep256)
    # RSA to symmetric.
    moved = kms.re_encrypt(CiphertextBlob=outside, SourceKeyId=rsa_key, SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
                           DestinationKeyId=symmetric, DestinationEncryptionContext={"to": "symmetric"})
    assert moved["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert moved["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert moved["SourceKeyId"].endswith(rsa_key) and moved["KeyId"].endswith(symmetric)
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"to": "symmetric"})[
        "Plaintext"] == b"made outside"
    # Symmetric to RSA, and RSA to RSA.
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"inside", EncryptionContext={"from": "symmetric"})["CiphertextBlob"]
    to_rsa = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "symmetric"},
                            DestinationKeyId=rsa_key, DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert len(to_rsa["CiphertextBlob"]) == 256 and to_rsa["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    assert kms.decrypt(KeyId=rsa_key, CiphertextBlob=to_rsa["CiphertextBlob"],
                       EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"inside"
    across = kms.re_encrypt(CiphertextBlob=to_rsa["CiphertextBlob"], SourceKeyId=rsa_key,
                            SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=other_rsa,
                            DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert kms.decrypt(KeyId=other_rsa, CiphertextBlob=across["CiphertextBlob"],
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"inside"
    # AWS's refusals: no algorithm for an RSA side, a context on an RSA side, a plaintext too long for the
    # destination, the wrong OAEP hash, an RSA ciphertext without its SourceKeyId.
    expect_error("InvalidKeyUsageException", kms.re_encrypt, CiphertextBlob=outside, SourceKeyId=rsa_key,
                 DestinationKeyId=symmetric)
    expect_error("ValidationException", kms.re_encrypt, CiphertextBlob=outside, SourceKeyId=rsa_key,
                 SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256", SourceEncryptionContext={"a": "b"},
                 DestinationKeyId=symmetric)
    expect_error("ValidationException", kms.re_encrypt, CiphertextBlob=blob, SourceEncryptionContext={"from": "symmetric"},
                 DestinationKeyId=rsa_key, DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256",
                 DestinationEncryptionContext={"a": "b"})
    long_blob = kms.encrypt(KeyId=symmetric, Plaintext=os.urandom(300))["CiphertextBlob"]
    expect_error("ValidationException", kms.re_encrypt, CiphertextBlob=long_blob, DestinationKeyId=rsa_key,
                 DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=outside, SourceKeyId=rsa_key,
                 SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=symmetric)
    expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=outside,
                 SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256", DestinationKeyId=symmetric)


def der(tag, content):
    """One DER TLV (definite length)."""
    length = len(content)
    header = bytes([length]) if length < 128 else bytes([0x80 | ((length.bit_length() + 7) // 8)]) + \
        length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag]) + header + content


def relabelled(spki):
    """The same point in a SubjectPublicKeyInfo that names secp256k1 (1.3.132.0.10) as its curve."""
    point = serialization.load_der_public_key(spki).public_bytes(serialization.Encoding.X962,
                                                                 serialization.PublicFormat.UncompressedPoint)
    algorithm = der(0x30, bytes.fromhex("06072a8648ce3d0201") + bytes.fromhex("06052b8104000a"))
    return der(0x30, algorithm + der(0x03, b"\x00" + point))


@pytest.mark.parametrize("spec", sorted(ECC))
def test_derived_secrets_equal_cryptographys_ecdh(kms, spec):
    curve = ECC[spec][2]
    key = create(kms, spec, "KEY_AGREEMENT")
    assert key["KeyAgreementAlgorithms"] == ["ECDH"] and "SigningAlgorithms" not in key
    answer, public = public_key(kms, key["KeyId"])
    assert answer["KeyUsage"] == "KEY_AGREEMENT" and answer["KeyAgreementAlgorithms"] == ["ECDH"]
    for _ in range(3):
        peer = ec.generate_private_key(curve())
        spki = peer.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        derived = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki)
        assert derived["SharedSecret"] == peer.exchange(ec.ECDH(), public)
        assert derived["KeyId"] == key["Arn"] and derived["KeyOrigin"] == "AWS_KMS"
        assert derived["KeyAgreementAlgorithm"] == "ECDH"
    # A peer key on another curve, an Ed25519 key, bytes that are no key: ValidationException.
    other_curve = ec.SECP384R1 if curve is not ec.SECP384R1 else ec.SECP256R1
    for bad in (ec.generate_private_key(other_curve()).public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
                ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
                b"\x30\x00", spki[:-1], relabelled(spki), spki + b"\x00"):
        expect_error("ValidationException", kms.derive_shared_secret, KeyId=key["KeyId"],
                     KeyAgreementAlgorithm="ECDH", PublicKey=bad)
    # An agreement key does not sign; a signing key does not agree.
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm=ECC[spec][0])
    signer = create(kms, spec, "SIGN_VERIFY")
    expect_error("InvalidKeyUsageException", kms.derive_shared_secret, KeyId=signer["KeyId"],
                 KeyAgreementAlgorithm="ECDH", PublicKey=spki)
    expect_error("DryRunOperationException", kms.derive_shared_secret, KeyId=key["KeyId"],
                 KeyAgreementAlgorithm="ECDH", PublicKey=spki, DryRun=True)


@pytest.mark.parametrize("spec,cls", [("ML_DSA_65", mldsa.MLDSA65PublicKey), ("ML_DSA_87", mldsa.MLDSA87PublicKey)])
def test_ml_dsa_signatures_verify_both_ways(kms, spec, cls):
    key = create(kms, spec, "SIGN_VERIFY")
    assert key["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"]
    _, public = public_key(kms, key["KeyId"])
    assert isinstance(public, cls)
    for message in (b"m", os.urandom(4096)):
        signed = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm="ML_DSA_SHAKE_256")
        public.verify(signed["Signature"], message)
        assert kms.verify(KeyId=key["KeyId"], Message=message, Signature=signed["Signature"],
                          SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True
        other = message[:-1] + bytes([message[-1] ^ 1])
        with pytest.raises(InvalidSignature):
            public.verify(signed["Signature"], other)
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=other,
                     Signature=signed["Signature"], SigningAlgorithm="ML_DSA_SHAKE_256")
    stranger = (mldsa.MLDSA65PrivateKey if spec == "ML_DSA_65" else mldsa.MLDSA87PrivateKey).generate()
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=key["KeyId"], Message=b"m",
                 Signature=stranger.sign(b"m"), SigningAlgorithm="ML_DSA_SHAKE_256")
    expect_error("ValidationException", kms.sign, KeyId=key["KeyId"], Message=b"m" * 32, MessageType="DIGEST",
                 SigningAlgorithm="ML_DSA_SHAKE_256")
    response = expect_error("UnsupportedOperationException", kms.sign, KeyId=key["KeyId"], Message=b"m" * 64,
                            MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")
    assert "EXTERNAL_MU" in response["Error"]["Message"]
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=key["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("ValidationException", kms.sign, KeyId=create(kms, "ECC_NIST_P256", "SIGN_VERIFY")["KeyId"],
                 Message=b"m" * 64, MessageType="EXTERNAL_MU", SigningAlgorithm="ECDSA_SHA_256")
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
    expect_error("InvalidKeyUsageException", kms.derive_shared_secret, KeyId=key["KeyId"],
                 KeyAgreementAlgorithm="ECDH", PublicKey=b"\x30\x00")


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
    for spec, usage in [("ECC_SECG_P256K1", "SIGN_VERIFY"), ("SM2", "SIGN_VERIFY"), ("ML_DSA_44", "SIGN_VERIFY")]:
        response = expect_error("UnsupportedOperationException", kms.create_key, KeySpec=spec, KeyUsage=usage)
        assert spec in response["Error"]["Message"]
    expect_error("ValidationException", kms.create_key, KeySpec="HMAC_256", KeyUsage="SIGN_VERIFY")
    expect_error("ValidationException", kms.create_key, KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="KEY_AGREEMENT")
