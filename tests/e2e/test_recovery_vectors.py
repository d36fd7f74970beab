"""An independent check of the recovery-share vectors (docs/protocol.md, "Recovery"): Python's
`cryptography` opens every share of Tests/CofferDomainTests/Vectors/recovery.json (written by the Swift
code) by ECDH on P-384, the SP 800-56C one-step KDF with SHA-384 and AES-256-GCM, and any two shares
rebuild, by Shamir over GF(2^8) with polynomial 0x11b, the private key whose public key the kit names.
"""
import hashlib
import json
import pathlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Tests/CofferDomainTests/Vectors/recovery.json"
LABEL = b"coffer recovery share v1"


def lv(data):
    return struct.pack(">I", len(data)) + data


def party(identifier, spki):
    return lv(identifier.encode()) + lv(spki)


def fingerprint(spki):
    return hashlib.sha384(spki).digest()[:16].hex()


def kdf(z, u, v, extra):
    fixed = lv(LABEL) + lv(u) + lv(v) + lv(extra) + struct.pack(">I", 256)
    return hashlib.sha384(struct.pack(">I", 1) + z + fixed).digest()[:32]


def gf_mul(a, b):
    product = 0
    while b:
        if b & 1:
            product ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return product


def gf_inv(a):
    # a^254 = a^-1 in GF(2^8)
    result, power, exponent = 1, a, 254
    while exponent:
        if exponent & 1:
            result = gf_mul(result, power)
        power = gf_mul(power, power)
        exponent >>= 1
    return result


def combine(shares):
    secret = bytearray(len(shares[0][1]))
    for j, (xj, yj) in enumerate(shares):
        numerator, denominator = 1, 1
        for m, (xm, _) in enumerate(shares):
            if m != j:
                numerator = gf_mul(numerator, xm)
                denominator = gf_mul(denominator, xm ^ xj)
        basis = gf_mul(numerator, gf_inv(denominator))
        for i, byte in enumerate(yj):
            secret[i] ^= gf_mul(byte, basis)
    return bytes(secret)


def spki_of(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_every_share_opens_and_any_two_rebuild_the_members_key():
    vector = json.loads(VECTORS.read_text())
    assert vector["label"] == LABEL.decode()
    member = vector["member"]
    opened = []
    for share in vector["shares"]:
        custodian = ec.derive_private_key(int(share["custodianPrivate"], 16), ec.SECP384R1())
        custodian_spki = bytes.fromhex(share["custodianKey"])
        assert spki_of(custodian.public_key()) == custodian_spki
        ephemeral_spki = bytes.fromhex(share["ephemeralKey"])
        ephemeral = serialization.load_der_public_key(ephemeral_spki)
        z = custodian.exchange(ec.ECDH(), ephemeral)
        header = bytes.fromhex(share["header"])
        key = kdf(
            z, party(member, ephemeral_spki), party(fingerprint(custodian_spki), custodian_spki),
            hashlib.sha384(header).digest())
        assert key.hex() == share["kdfKey"]
        sealed = bytes.fromhex(share["sealed"])
        y = AESGCM(key).decrypt(sealed[:12], sealed[12:], header)
        assert y.hex() == share["y"]
        # The sealed share's DER holds the header, the ephemeral key and the sealed bytes, and not y.
        der = bytes.fromhex(share["sealedShare"])
        assert header in der and ephemeral_spki in der and sealed in der and y not in der
        opened.append((share["x"], y))
    for pair in ([0, 1], [0, 2], [1, 2]):
        scalar = combine([opened[i] for i in pair])
        assert scalar.hex() == vector["memberPrivate"]
        rebuilt = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP384R1())
        assert spki_of(rebuilt.public_key()).hex() == vector["memberKey"]
    # One share alone gives a different value (it is not the key).
    assert combine(opened[:1]).hex() != vector["memberPrivate"]
