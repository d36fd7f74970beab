"""Imported key material against a real `coffer dev`, wrapped by Python's `cryptography` exactly as the AWS
docs describe (RSA-OAEP, or RSA-OAEP of an AES key followed by AES Key Wrap with Padding): symmetric keys
that decrypt again only with the same material, HMAC keys whose MACs equal Python's `hmac`, and ECC, Ed25519
and RSA keys whose public keys and signatures match the imported private keys. Every refusal the issue
lists is checked: an expired or another key's import token, material of the wrong length, material wrapped
under another import's public key, and a re-import of different material."""
import hashlib
import hmac
import os
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from conftest import expect_error

HASHES = {"SHA_1": hashes.SHA1(), "SHA_256": hashes.SHA256()}


def wrap(parameters, material, algorithm):
    """`material` wrapped for ImportKeyMaterial under the import parameters' public key."""
    public = serialization.load_der_public_key(parameters["PublicKey"])
    hash_algorithm = HASHES[algorithm.rsplit("_", 2)[-2] + "_" + algorithm.rsplit("_", 1)[-1]]
    oaep = padding.OAEP(mgf=padding.MGF1(hash_algorithm), algorithm=hash_algorithm, label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes_key = os.urandom(32)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def import_material(kms, key_id, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048", **kwargs):
    parameters = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    return kms.import_key_material(KeyId=key_id, ImportToken=parameters["ImportToken"],
                                   EncryptedKeyMaterial=wrap(parameters, material, algorithm), **kwargs)


def external_key(kms, spec="SYMMETRIC_DEFAULT", usage="ENCRYPT_DECRYPT"):
    key = kms.create_key(Origin="EXTERNAL", KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    assert key["Origin"] == "EXTERNAL" and key["KeyState"] == "PendingImport" and key["Enabled"] is False
    return key["KeyId"]


@pytest.mark.parametrize("algorithm,spec", [
    ("RSAES_OAEP_SHA_1", "RSA_2048"), ("RSAES_OAEP_SHA_256", "RSA_3072"),
    ("RSA_AES_KEY_WRAP_SHA_1", "RSA_2048"), ("RSA_AES_KEY_WRAP_SHA_256", "RSA_4096")])
def test_symmetric_material_decrypts_again_only_when_the_same_material_returns(kms, algorithm, spec):
    key = external_key(kms)
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=key, Plaintext=b"x")
    material = os.urandom(32)
    answer = import_material(kms, key, material, algorithm, spec)
    material_id = answer["KeyMaterialId"]
    assert len(material_id) == 64 and answer["KeyId"].endswith(key)
    described = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert described["KeyState"] == "Enabled" and described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert described["CurrentKeyMaterialId"] == material_id
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"

    deleted = kms.delete_imported_key_material(KeyId=key)
    assert deleted["KeyMaterialId"] == material_id
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    # Different material is refused; the same material brings the old ciphertexts back.
    expect_error("IncorrectKeyMaterialException", import_material, kms, key, os.urandom(32), algorithm, spec)
    again = import_material(kms, key, material, algorithm, spec)
    assert again["KeyMaterialId"] == material_id
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_material_of_a_key_pending_deletion_can_be_deleted(kms):
    key = external_key(kms)
    import_material(kms, key, os.urandom(32))
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    kms.delete_imported_key_material(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_import_refusals(kms):
    key = external_key(kms)
    other = external_key(kms)
    parameters = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                               WrappingKeySpec="RSA_2048")
    assert parameters["ParametersValidTo"].timestamp() == pytest.approx(time.time() + 86400, abs=120)
    # Material of the wrong length for an AES-256 key.
    for size in (16, 31, 33):
        expect_error("IncorrectKeyMaterialException", kms.import_key_material, KeyId=key,
                     ImportToken=parameters["ImportToken"],
                     EncryptedKeyMaterial=wrap(parameters, os.urandom(size), "RSAES_OAEP_SHA_256"))
    # Material wrapped under another import's public key.
    second = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    expect_error("InvalidCiphertextException", kms.import_key_material, KeyId=key,
                 ImportToken=parameters["ImportToken"],
                 EncryptedKeyMaterial=wrap(second, os.urandom(32), "RSAES_OAEP_SHA_256"))
    # Another key's import token, a token that is no token, a tampered token.
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=other,
                 ImportToken=parameters["ImportToken"],
                 EncryptedKeyMaterial=wrap(parameters, os.urandom(32), "RSAES_OAEP_SHA_256"))
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=key, ImportToken=b"\x30\x00",
                 EncryptedKeyMaterial=b"x")
    tampered = bytearray(parameters["ImportToken"])
    tampered[-5] ^= 1
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=key, ImportToken=bytes(tampered),
                 EncryptedKeyMaterial=wrap(parameters, os.urandom(32), "RSAES_OAEP_SHA_256"))
    # ValidTo rules.
    expect_error("ValidationException", kms.import_key_material, KeyId=key, ImportToken=parameters["ImportToken"],
                 EncryptedKeyMaterial=wrap(parameters, os.urandom(32), "RSAES_OAEP_SHA_256"),
                 ExpirationModel="KEY_MATERIAL_EXPIRES")
    expect_error("ValidationException", kms.import_key_material, KeyId=key, ImportToken=parameters["ImportToken"],
                 EncryptedKeyMaterial=wrap(parameters, os.urandom(32), "RSAES_OAEP_SHA_256"),
                 ValidTo=time.time() - 10)
    # Unsupported wrapping; keys of Origin AWS_KMS take no import.
    expect_error("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=key,
                 WrappingAlgorithm="RSAES_PKCS1_V1_5", WrappingKeySpec="RSA_2048")
    expect_error("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=key,
                 WrappingAlgorithm="SM2PKE", WrappingKeySpec="SM2")
    native = kms.create_key()["KeyMetadata"]["KeyId"]
    expect_error("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=native,
                 WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    expect_error("UnsupportedOperationException", kms.delete_imported_key_material, KeyId=native)
    # A key awaiting import is neither enabled nor disabled, and imported keys do not rotate.
    expect_error("KMSInvalidStateException", kms.enable_key, KeyId=key)
    import_material(kms, key, os.urandom(32))
    expect_error("UnsupportedOperationException", kms.enable_key_rotation, KeyId=key)


def test_an_expired_import_token_is_refused(coffer):
    """An import token whose ValidTo has passed is ExpiredImportTokenException: the token's notAfter is moved
    a day back (the host checks it before the HSM, which would refuse the altered seal as well)."""
    kms = coffer.client()
    key = external_key(kms)
    parameters = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                               WrappingKeySpec="RSA_2048")
    # The token's notAfter is inside its DER (a GeneralizedTime tagged [0]); moving it a day back makes
    # the host refuse it as expired before the HSM would refuse the altered seal.
    token = bytearray(parameters["ImportToken"])
    valid_to = time.strftime("%Y%m%d%H%M%S", time.gmtime(parameters["ParametersValidTo"].timestamp())).encode()
    index = bytes(token).find(valid_to)
    assert index > 0
    yesterday = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 86400)).encode()
    token[index:index + len(yesterday)] = yesterday
    expect_error("ExpiredImportTokenException", kms.import_key_material, KeyId=key, ImportToken=bytes(token),
                 EncryptedKeyMaterial=wrap(parameters, os.urandom(32), "RSAES_OAEP_SHA_256"))


@pytest.mark.parametrize("spec,size,digest", [("HMAC_224", 28, hashlib.sha224), ("HMAC_224", 64, hashlib.sha224),
                                              ("HMAC_256", 32, hashlib.sha256), ("HMAC_256", 64, hashlib.sha256),
                                              ("HMAC_384", 48, hashlib.sha384), ("HMAC_512", 128, hashlib.sha512)])
def test_imported_hmac_keys_equal_pythons_hmac(kms, spec, size, digest):
    key = external_key(kms, spec, "GENERATE_VERIFY_MAC")
    material = os.urandom(size)
    import_material(kms, key, material, "RSA_AES_KEY_WRAP_SHA_256")
    algorithm = "HMAC_SHA_" + spec[-3:]
    for message in (b"m", os.urandom(4096)):
        assert kms.generate_mac(KeyId=key, Message=message, MacAlgorithm=algorithm)["Mac"] == \
            hmac.new(material, message, digest).digest()
    expect_error("IncorrectKeyMaterialException", import_material, kms, external_key(kms, spec, "GENERATE_VERIFY_MAC"),
                 os.urandom({"HMAC_224": 27, "HMAC_256": 31, "HMAC_384": 47, "HMAC_512": 63}[spec]), "RSA_AES_KEY_WRAP_SHA_256")


def pkcs8(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_NIST_EDWARDS25519",
                                  "RSA_2048", "ML_DSA_65", "ML_DSA_87"])
def test_imported_private_keys_sign_and_match_their_public_keys(kms, spec):
    curves = {"ECC_NIST_P256": (ec.SECP256R1, "ECDSA_SHA_256", hashes.SHA256()),
              "ECC_NIST_P384": (ec.SECP384R1, "ECDSA_SHA_384", hashes.SHA384()),
              "ECC_NIST_P521": (ec.SECP521R1, "ECDSA_SHA_512", hashes.SHA512())}
    if spec in curves:
        curve, algorithm, hash_algorithm = curves[spec]
        private_key = ec.generate_private_key(curve())
        sign = lambda m: private_key.sign(m, ec.ECDSA(hash_algorithm))
    elif spec == "RSA_2048":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        algorithm = "RSASSA_PSS_SHA_256"
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        sign = lambda m: private_key.sign(m, pss, hashes.SHA256())
    elif spec.startswith("ML_DSA"):
        # RFC 9881's seed-only PKCS#8, as `cryptography` writes it.
        private_key = {"ML_DSA_65": mldsa.MLDSA65PrivateKey, "ML_DSA_87": mldsa.MLDSA87PrivateKey}[spec].generate()
        algorithm = "ML_DSA_SHAKE_256"
        sign = private_key.sign
    else:
        private_key = ed25519.Ed25519PrivateKey.generate()
        algorithm = "ED25519_SHA_512"
        sign = private_key.sign
    key = external_key(kms, spec, "SIGN_VERIFY")
    import_material(kms, key, pkcs8(private_key), "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072")
    assert kms.get_public_key(KeyId=key)["PublicKey"] == spki(private_key.public_key())
    # Signatures made outside with the imported key verify inside; Coffer's verify outside.
    assert kms.verify(KeyId=key, Message=b"outside", Signature=sign(b"outside"),
                      SigningAlgorithm=algorithm)["SignatureValid"] is True
    signature = kms.sign(KeyId=key, Message=b"inside", SigningAlgorithm=algorithm)["Signature"]
    assert kms.verify(KeyId=key, Message=b"inside", Signature=signature, SigningAlgorithm=algorithm)
    # A key of another curve or size is not this spec's material.
    if spec.startswith("ML_DSA"):
        wrong = (mldsa.MLDSA87PrivateKey if spec == "ML_DSA_65" else mldsa.MLDSA65PrivateKey).generate()
    else:
        wrong = ec.generate_private_key(ec.SECP256K1()) if spec != "RSA_2048" else rsa.generate_private_key(65537, 3072)
    expect_error("IncorrectKeyMaterialException", import_material, kms, external_key(kms, spec, "SIGN_VERIFY"),
                 pkcs8(wrong), "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072")


def test_expiring_material_is_gone_after_its_valid_to(kms):
    key = external_key(kms)
    import_material(kms, key, os.urandom(32), ValidTo=time.time() + 3, ExpirationModel="KEY_MATERIAL_EXPIRES")
    described = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert described["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and "ValidTo" in described
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    time.sleep(4.5)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)


def test_material_is_imported_again_and_deleted_in_the_first_request_after_it_expired(kms):
    # The request that finds the material expired removes it and then makes its own change to the key: the
    # same material imported again (with a token fetched before), or the material deleted, in that request.
    material = os.urandom(32)
    for action in ("import", "delete"):
        key = external_key(kms)
        parameters = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                                   WrappingKeySpec="RSA_2048")
        import_material(kms, key, material, ValidTo=time.time() + 2, ExpirationModel="KEY_MATERIAL_EXPIRES")
        blob = kms.encrypt(KeyId=key, Plaintext=b"again")["CiphertextBlob"]
        time.sleep(3.5)
        if action == "import":
            kms.import_key_material(KeyId=key, ImportToken=parameters["ImportToken"],
                                    EncryptedKeyMaterial=wrap(parameters, material, "RSAES_OAEP_SHA_256"),
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"again"
        else:
            kms.delete_imported_key_material(KeyId=key)
            assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_seeded_key_material_reaches_only_the_hsm(tmp_path):
    """`coffer dev --seed` with known material of several specs: the keys use exactly that material (HMAC
    equals Python's, public keys equal the seeded private keys'), and no form of the material is in the
    data directory."""
    import base64 as b64

    from conftest import start_coffer

    hmac_key = os.urandom(48)
    aes_key = os.urandom(32)
    ecc = ec.generate_private_key(ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    pem = pkcs8_pem = ecc.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "keys:\n"
        "  - aliases: [alias/seeded-hmac]\n    keySpec: HMAC_384\n    keyUsage: GENERATE_VERIFY_MAC\n"
        "    keyMaterial: %s\n"
        "  - aliases: [alias/seeded-aes]\n    keyMaterial: %s\n"
        "  - aliases: [alias/seeded-ecc]\n    keySpec: ECC_NIST_P384\n    keyUsage: SIGN_VERIFY\n"
        "    keyMaterial: |\n%s"
        "  - aliases: [alias/seeded-ed25519]\n    keySpec: ECC_NIST_EDWARDS25519\n    keyMaterial: %s\n"
        % (b64.b64encode(hmac_key).decode(), b64.b64encode(aes_key).decode(),
           "".join("      " + line + "\n" for line in pem.strip().splitlines()), b64.b64encode(pkcs8(ed)).decode()))
    data = tmp_path / "data"
    server = start_coffer("--seed", str(seed), "--data-dir", str(data), workdir=str(tmp_path))
    try:
        kms = server.client()
        mac = kms.generate_mac(KeyId="alias/seeded-hmac", Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
        assert mac == hmac.new(hmac_key, b"m", hashlib.sha384).digest()
        described = kms.describe_key(KeyId="alias/seeded-aes")["KeyMetadata"]
        assert described["Origin"] == "EXTERNAL" and described["KeyState"] == "Enabled"
        blob = kms.encrypt(KeyId="alias/seeded-aes", Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
        assert kms.get_public_key(KeyId="alias/seeded-ecc")["PublicKey"] == spki(ecc.public_key())
        assert kms.get_public_key(KeyId="alias/seeded-ed25519")["PublicKey"] == spki(ed.public_key())
        signature = ed.sign(b"seeded")
        assert kms.verify(KeyId="alias/seeded-ed25519", Message=b"seeded", Signature=signature,
                          SigningAlgorithm="ED25519_SHA_512")["SignatureValid"]
    finally:
        server.stop()
    contents = b"".join(path.read_bytes() for path in data.rglob("*") if path.is_file())
    assert contents, "the data directory holds the store"
    for secret in (hmac_key, aes_key, pkcs8(ecc), pkcs8(ed), pkcs8(ed)[-32:]):
        for form in (secret, secret.hex().encode(), b64.b64encode(secret)):
            assert form not in contents
