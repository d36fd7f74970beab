import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1

/// The signing, MAC and RSA backing keys (docs/protocol.md, "Signing and MAC keys"): how each spec's
/// material is made, what a token of it holds, and the work it does. Material exists only inside the HSM,
/// and outside it only sealed in a token: raw bytes for HMAC keys, PKCS#8 DER for RSA, ECC and Ed25519
/// keys (PROTOCOL §7's rule for token material).
enum SigningKeys {
    /// The specs of this kind and what each is.
    enum Spec: String, CaseIterable {
        case hmac224 = "HMAC_224"
        case hmac256 = "HMAC_256"
        case hmac384 = "HMAC_384"
        case hmac512 = "HMAC_512"
        case p256 = "ECC_NIST_P256"
        case p384 = "ECC_NIST_P384"
        case p521 = "ECC_NIST_P521"
        case ed25519 = "ECC_NIST_EDWARDS25519"
        case rsa2048 = "RSA_2048"
        case rsa3072 = "RSA_3072"
        case rsa4096 = "RSA_4096"
        case mlDSA65 = "ML_DSA_65"
        case mlDSA87 = "ML_DSA_87"

        /// The algorithms a key of this spec signs, MACs or encrypts with (AWS KMS's lists; Ed25519's
        /// pre-hashed variant is not offered: swift-crypto has no Ed25519ph).
        var algorithms: [String] {
            switch self {
            case .hmac224: ["HMAC_SHA_224"]
            case .hmac256: ["HMAC_SHA_256"]
            case .hmac384: ["HMAC_SHA_384"]
            case .hmac512: ["HMAC_SHA_512"]
            case .p256: ["ECDSA_SHA_256"]
            case .p384: ["ECDSA_SHA_384"]
            case .p521: ["ECDSA_SHA_512"]
            case .ed25519: ["ED25519_SHA_512"]
            case .rsa2048, .rsa3072, .rsa4096:
                RSAAlgorithm.allCases.map(\.rawValue)
            case .mlDSA65, .mlDSA87: ["ML_DSA_SHAKE_256"]
            }
        }

        var isMAC: Bool { [.hmac224, .hmac256, .hmac384, .hmac512].contains(self) }

        /// The bytes of an HMAC key (and of an ECC scalar's hash).
        var byteCount: Int {
            switch self {
            case .hmac224: 28
            case .hmac256, .p256: 32
            case .hmac384, .p384: 48
            case .hmac512, .p521, .ed25519: 64
            case .rsa2048: 256
            case .rsa3072: 384
            case .rsa4096: 512
            case .mlDSA65, .mlDSA87: 32
            }
        }
    }

    /// The RSA algorithms: PSS (MGF1 with the same hash, salt as long as the digest) and PKCS #1 v1.5
    /// signatures, OAEP encryption (MGF1 with the same hash, empty label), as AWS KMS defines them.
    enum RSAAlgorithm: String, CaseIterable {
        case pssSHA256 = "RSASSA_PSS_SHA_256"
        case pssSHA384 = "RSASSA_PSS_SHA_384"
        case pssSHA512 = "RSASSA_PSS_SHA_512"
        case pkcs1SHA256 = "RSASSA_PKCS1_V1_5_SHA_256"
        case pkcs1SHA384 = "RSASSA_PKCS1_V1_5_SHA_384"
        case pkcs1SHA512 = "RSASSA_PKCS1_V1_5_SHA_512"
        case oaepSHA1 = "RSAES_OAEP_SHA_1"
        case oaepSHA256 = "RSAES_OAEP_SHA_256"

        var signingPadding: _RSA.Signing.Padding? {
            switch self {
            case .pssSHA256, .pssSHA384, .pssSHA512: .PSS
            case .pkcs1SHA256, .pkcs1SHA384, .pkcs1SHA512: .insecurePKCS1v1_5
            case .oaepSHA1, .oaepSHA256: nil
            }
        }

        var encryptionPadding: _RSA.Encryption.Padding? {
            switch self {
            case .oaepSHA1: .PKCS1_OAEP
            case .oaepSHA256: .PKCS1_OAEP_SHA256
            default: nil
            }
        }
    }

    /// The named-curve OIDs of P-256, P-384 and P-521.
    static let p256Curve = ECPublicKeyInfo.p256
    static let p384Curve = ECPublicKeyInfo.p384
    static let p521Curve = ECPublicKeyInfo.p521

    /// RFC 8410's PKCS#8 prefix of an Ed25519 private key (followed by the 32-byte seed), and its SPKI prefix.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]
    static let ed25519SPKIPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]
    /// RFC 9881's PKCS#8 prefixes of ML-DSA-65 and ML-DSA-87 private keys in the seed-only form
    /// (`privateKey` holds `[0] IMPLICIT OCTET STRING` of the 32-byte seed, followed by it), the form
    /// OpenSSL and Python's `cryptography` write.
    static let mlDSA65PKCS8Prefix: [UInt8] = [
        0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12,
        0x04, 0x22, 0x80, 0x20,
    ]
    static let mlDSA87PKCS8Prefix: [UInt8] = [
        0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13,
        0x04, 0x22, 0x80, 0x20,
    ]
    /// The SPKI prefixes of ML-DSA-65 and ML-DSA-87 public keys (id-ml-dsa-65/87, 2.16.840.1.101.3.4.3.18/19,
    /// RFC 9881), followed by the 1952- or 2592-byte FIPS 204 public key.
    static let mlDSA65SPKIPrefix: [UInt8] = [
        0x30, 0x82, 0x07, 0xb2, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12, 0x03,
        0x82, 0x07, 0xa1, 0x00,
    ]
    static let mlDSA87SPKIPrefix: [UInt8] = [
        0x30, 0x82, 0x0a, 0x32, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13, 0x03,
        0x82, 0x0a, 0x21, 0x00,
    ]

    /// New material for `spec`, drawn from `random`.
    static func generate(_ spec: Spec, random: inout some RandomSource) throws(Failure) -> SecretBytes {
        switch spec {
        case .hmac224, .hmac256, .hmac384, .hmac512:
            return random.secret(count: spec.byteCount)
        case .p256:
            let key = scalar(of: 32, random: &random) { try P256.Signing.PrivateKey(rawRepresentation: $0) }
            return key.pkcs8Secret
        case .p384:
            let key = scalar(of: 48, random: &random) { try P384.Signing.PrivateKey(rawRepresentation: $0) }
            return key.pkcs8Secret
        case .p521:
            let key = scalar(of: 66, topByteMask: 0x01, random: &random) {
                try P521.Signing.PrivateKey(rawRepresentation: $0)
            }
            return key.pkcs8Secret
        case .ed25519:
            let seed = random.secret(count: 32)
            var bytes = ed25519PKCS8Prefix
            seed.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return SecretBytes(consuming: &bytes)
        case .mlDSA65, .mlDSA87:
            // PROTOCOL §7: an ML-DSA key's material is its 32-byte seed (FIPS 204 ξ).
            return random.secret(count: 32)
        case .rsa2048, .rsa3072, .rsa4096:
            // BoringSSL draws the primes from its own generator (the operating system's CSPRNG); RSA key
            // generation cannot be driven from `random`.
            for _ in 0..<8 {
                if let key = try? _RSA.Signing.PrivateKey(keySize: .init(bitCount: spec.byteCount * 8)) {
                    var data = key.pkcs8DERRepresentation
                    defer { data.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
                    return SecretBytes(copying: data)
                }
            }
            throw Failure(.internal, "RSA key generation failed")
        }
    }

    /// A private key from random scalars: a string is a valid scalar unless it is 0 or ≥ n (for P-521,
    /// whose 66 bytes carry 521 bits, after clearing the top seven bits).
    private static func scalar<Key>(
        of count: Int, topByteMask: UInt8 = 0xff, random: inout some RandomSource,
        _ make: (UnsafeRawBufferPointer) throws -> Key
    ) -> Key {
        while true {
            var bytes = random.secret(count: count).withUnsafeBytes { [UInt8]($0) }
            bytes[0] &= topByteMask
            let secret = SecretBytes(consuming: &bytes)
            if let key = secret.withUnsafeBytes({ try? make($0) }) { return key }
        }
    }

    /// A token's material, opened for use.
    enum Key {
        case hmac(SymmetricKey, Spec)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey, Spec)
        case mlDSA65(MLDSA65.PrivateKey)
        case mlDSA87(MLDSA87.PrivateKey)

        /// Reads `material` of `spec` (already authenticated by the token's seal: a failure here is an
        /// internal fault, not the caller's).
        init(_ material: SecretBytes, spec: Spec) throws(Failure) {
            do {
                switch spec {
                case .hmac224, .hmac256, .hmac384, .hmac512:
                    guard spec.importableLengths.contains(material.count) else {
                        throw Failure(.internal, "HMAC key size")
                    }
                    self = .hmac(material.symmetricKey, spec)
                case .p256:
                    self = .p256(try material.withUnsafeBytes { try P256.Signing.PrivateKey(derRepresentation: $0) })
                case .p384:
                    self = .p384(try material.withUnsafeBytes { try P384.Signing.PrivateKey(derRepresentation: $0) })
                case .p521:
                    self = .p521(try material.withUnsafeBytes { try P521.Signing.PrivateKey(derRepresentation: $0) })
                case .ed25519:
                    let prefix = SigningKeys.ed25519PKCS8Prefix
                    let key = try material.withUnsafeBytes { raw -> Curve25519.Signing.PrivateKey? in
                        guard raw.count == prefix.count + 32, raw.prefix(prefix.count).elementsEqual(prefix) else {
                            return nil
                        }
                        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw.suffix(32))
                    }
                    guard let key else { throw Failure(.internal, "Ed25519 key encoding") }
                    self = .ed25519(key)
                case .mlDSA65:
                    guard material.count == 32 else { throw Failure(.internal, "ML-DSA seed size") }
                    self = .mlDSA65(
                        try material.withUnsafeBytes { try MLDSA65.PrivateKey(seedRepresentation: $0, publicKey: nil) })
                case .mlDSA87:
                    guard material.count == 32 else { throw Failure(.internal, "ML-DSA seed size") }
                    self = .mlDSA87(
                        try material.withUnsafeBytes { try MLDSA87.PrivateKey(seedRepresentation: $0, publicKey: nil) })
                case .rsa2048, .rsa3072, .rsa4096:
                    let key = try material.withUnsafeBytes { try _RSA.Signing.PrivateKey(derRepresentation: $0) }
                    guard key.keySizeInBits == spec.byteCount * 8 else { throw Failure(.internal, "RSA key size") }
                    self = .rsa(key, spec)
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(.internal, "the key material of a \(spec.rawValue) token does not parse")
            }
        }

        /// The public key's SubjectPublicKeyInfo DER.
        var publicKey: [UInt8] {
            switch self {
            case .hmac: []
            case .p256(let key): Array(key.publicKey.derRepresentation)
            case .p384(let key): Array(key.publicKey.derRepresentation)
            case .p521(let key): Array(key.publicKey.derRepresentation)
            case .ed25519(let key): SigningKeys.ed25519SPKIPrefix + key.publicKey.rawRepresentation
            case .rsa(let key, _): Array(key.publicKey.derRepresentation)
            case .mlDSA65(let key): SigningKeys.mlDSA65SPKIPrefix + key.publicKey.rawRepresentation
            case .mlDSA87(let key): SigningKeys.mlDSA87SPKIPrefix + key.publicKey.rawRepresentation
            }
        }

        /// A signature over `message` (raw or the algorithm's digest) with `algorithm` (already checked to
        /// be one of the spec's): ECDSA in DER (X9.62), Ed25519 as its 64 bytes, RSA as the modulus-sized
        /// integer, as AWS KMS returns them.
        func sign(
            _ message: SecretBytes, _ type: SessionCommand.MessageType, algorithm: String
        ) throws(Failure) -> [UInt8] {
            do {
                switch self {
                case .rsa(let key, _):
                    let (padding, hash) = try Self.rsaSigning(algorithm)
                    let signature: _RSA.Signing.RSASignature =
                        switch hash {
                        case 48:
                            try key.signature(for: DigestMessage.digest(SHA384.self, message, type), padding: padding)
                        case 64:
                            try key.signature(for: DigestMessage.digest(SHA512.self, message, type), padding: padding)
                        default:
                            try key.signature(for: DigestMessage.digest(SHA256.self, message, type), padding: padding)
                        }
                    return Array(signature.rawRepresentation)
                case .mlDSA65(let key):
                    guard type == .raw else { throw Failure(.unsupported, "ML-DSA signs RAW messages only, for now") }
                    return Array(try message.withUnsafeBytes { try key.signature(for: $0) })
                case .mlDSA87(let key):
                    guard type == .raw else { throw Failure(.unsupported, "ML-DSA signs RAW messages only, for now") }
                    return Array(try message.withUnsafeBytes { try key.signature(for: $0) })
                case .hmac: throw Failure(.wrongKind, "an HMAC key does not sign")
                case .p256(let key):
                    return Array(try key.signature(for: try Prehashed<SHA256>(message, type)).derRepresentation)
                case .p384(let key):
                    return Array(try key.signature(for: try Prehashed<SHA384>(message, type)).derRepresentation)
                case .p521(let key):
                    return Array(try key.signature(for: try Prehashed<SHA512>(message, type)).derRepresentation)
                case .ed25519(let key):
                    guard type == .raw else {
                        throw Failure(.invalidArgument, "ED25519_SHA_512 signs RAW messages only")
                    }
                    return Array(try message.withUnsafeBytes { try key.signature(for: $0) })
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(.internal, "signing failed")
            }
        }

        /// Whether `signature` is this key's over `message`. A signature that does not parse is invalid.
        func verify(
            _ signature: [UInt8], _ message: SecretBytes, _ type: SessionCommand.MessageType, algorithm: String
        ) throws(Failure) -> Bool {
            switch self {
            case .rsa(let key, _):
                let (padding, hash) = try Self.rsaSigning(algorithm)
                let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
                let publicKey = key.publicKey
                return switch hash {
                case 48:
                    publicKey.isValidSignature(
                        parsed, for: try DigestMessage.digest(SHA384.self, message, type), padding: padding)
                case 64:
                    publicKey.isValidSignature(
                        parsed, for: try DigestMessage.digest(SHA512.self, message, type), padding: padding)
                default:
                    publicKey.isValidSignature(
                        parsed, for: try DigestMessage.digest(SHA256.self, message, type), padding: padding)
                }
            case .mlDSA65(let key):
                guard type == .raw else { throw Failure(.unsupported, "ML-DSA verifies RAW messages only, for now") }
                return message.withUnsafeBytes { key.publicKey.isValidSignature(signature, for: $0) }
            case .mlDSA87(let key):
                guard type == .raw else { throw Failure(.unsupported, "ML-DSA verifies RAW messages only, for now") }
                return message.withUnsafeBytes { key.publicKey.isValidSignature(signature, for: $0) }
            case .hmac: throw Failure(.wrongKind, "an HMAC key does not verify signatures")
            case .p256(let key):
                let digest = try Prehashed<SHA256>(message, type)
                guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return key.publicKey.isValidSignature(parsed, for: digest)
            case .p384(let key):
                let digest = try Prehashed<SHA384>(message, type)
                guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return key.publicKey.isValidSignature(parsed, for: digest)
            case .p521(let key):
                let digest = try Prehashed<SHA512>(message, type)
                guard let parsed = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return key.publicKey.isValidSignature(parsed, for: digest)
            case .ed25519(let key):
                guard type == .raw else {
                    throw Failure(.invalidArgument, "ED25519_SHA_512 verifies RAW messages only")
                }
                return message.withUnsafeBytes { key.publicKey.isValidSignature(signature, for: $0) }
            }
        }

        /// An RSA signing algorithm's padding and digest size (`invalidArgument` for an encryption one).
        private static func rsaSigning(_ algorithm: String) throws(Failure) -> (_RSA.Signing.Padding, Int) {
            guard let rsa = RSAAlgorithm(rawValue: algorithm), let padding = rsa.signingPadding else {
                throw Failure(.invalidArgument, "\(algorithm) is not an RSA signing algorithm")
            }
            return (padding, algorithm.hasSuffix("384") ? 48 : algorithm.hasSuffix("512") ? 64 : 32)
        }

        /// RSA-OAEP encryption of `plaintext` under the public key (the plaintext must fit the modulus:
        /// `invalidArgument`).
        func encrypt(_ plaintext: SecretBytes, algorithm: String) throws(Failure) -> [UInt8] {
            guard case .rsa(let signing, _) = self else { throw Failure(.wrongKind, "not an RSA key") }
            guard let padding = RSAAlgorithm(rawValue: algorithm)?.encryptionPadding else {
                throw Failure(.invalidArgument, "\(algorithm) is not an RSA encryption algorithm")
            }
            // Encryption needs the public key only: no copy of the private key is made for it.
            let key: _RSA.Encryption.PublicKey
            do {
                key = try _RSA.Encryption.PublicKey(derRepresentation: signing.publicKey.derRepresentation)
            } catch {
                throw Failure(.internal, "the RSA public key does not convert")
            }
            guard plaintext.count <= key.maximumEncryptSize(with: padding) else {
                throw Failure(.invalidArgument, "the plaintext is too long for \(algorithm) with this key")
            }
            do {
                return Array(try plaintext.withUnsafeBytes { try key.encrypt($0, padding: padding) })
            } catch {
                throw Failure(.internal, "RSA encryption failed")
            }
        }

        /// RSA-OAEP decryption; every failure is `invalidCiphertext`, with no detail.
        func decrypt(_ ciphertext: [UInt8], algorithm: String) throws(Failure) -> SecretBytes {
            let (key, padding) = try rsaEncryption(algorithm)
            do {
                // swift-crypto's `Data` of the plaintext is wiped once copied into a secret.
                var plaintext = try key.decrypt(ciphertext, padding: padding)
                defer { plaintext.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
                // An empty plaintext has no place in a KMS answer (AWS's plaintexts are 1 … 4096 bytes).
                guard !plaintext.isEmpty else { throw Failure(.invalidCiphertext, "an empty plaintext") }
                return SecretBytes(copying: plaintext)
            } catch {
                throw Failure(.invalidCiphertext, "the ciphertext does not open under this key and algorithm")
            }
        }

        private func rsaEncryption(
            _ algorithm: String
        ) throws(Failure) -> (_RSA.Encryption.PrivateKey, _RSA.Encryption.Padding) {
            guard case .rsa(let signing, _) = self else { throw Failure(.wrongKind, "not an RSA key") }
            guard let rsa = RSAAlgorithm(rawValue: algorithm), let padding = rsa.encryptionPadding else {
                throw Failure(.invalidArgument, "\(algorithm) is not an RSA encryption algorithm")
            }
            // The private key's DER, re-read as an encryption key; swift-crypto's copy is wiped.
            var der = signing.derRepresentation
            defer { der.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
            do {
                return (try _RSA.Encryption.PrivateKey(derRepresentation: der), padding)
            } catch {
                throw Failure(.internal, "the RSA key does not convert")
            }
        }

        /// ECDH with a peer's SubjectPublicKeyInfo on the key's curve (`invalidArgument` for a key that does
        /// not parse, is not on the curve, or is of another curve; `wrongKind` for keys other than ECC).
        func sharedSecret(with peer: [UInt8]) throws(Failure) -> SecretBytes {
            do {
                let shared: SharedSecret
                // The signing key's scalar, re-read as a key-agreement key; swift-crypto's copy is wiped.
                var scalar: Data
                defer { scalar.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
                switch self {
                case .p256(let key):
                    scalar = key.rawRepresentation
                    let own = try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar)
                    shared = try own.sharedSecretFromKeyAgreement(
                        with: try Self.peer(peer, SigningKeys.p256Curve) {
                            try P256.KeyAgreement.PublicKey(derRepresentation: $0)
                        })
                case .p384(let key):
                    scalar = key.rawRepresentation
                    let own = try P384.KeyAgreement.PrivateKey(rawRepresentation: scalar)
                    shared = try own.sharedSecretFromKeyAgreement(
                        with: try Self.peer(peer, SigningKeys.p384Curve) {
                            try P384.KeyAgreement.PublicKey(derRepresentation: $0)
                        })
                case .p521(let key):
                    scalar = key.rawRepresentation
                    let own = try P521.KeyAgreement.PrivateKey(rawRepresentation: scalar)
                    shared = try own.sharedSecretFromKeyAgreement(
                        with: try Self.peer(peer, SigningKeys.p521Curve) {
                            try P521.KeyAgreement.PublicKey(derRepresentation: $0)
                        })
                default:
                    scalar = Data()
                    throw Failure(.wrongKind, "only NIST-curve ECC keys agree keys")
                }
                return shared.withUnsafeBytes { SecretBytes(copying: $0) }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(.internal, "key agreement failed")
            }
        }

        /// A peer key: a SubjectPublicKeyInfo naming id-ecPublicKey with the key's own curve, whose point
        /// parses on that curve (`invalidArgument` otherwise).
        private static func peer<Key>(
            _ spki: [UInt8], _ curve: ASN1ObjectIdentifier, _ parse: ([UInt8]) throws -> Key
        ) throws(Failure) -> Key {
            guard ECPublicKeyInfo.names(spki, curve: curve) else {
                throw Failure(.invalidArgument, "the peer public key is not a SubjectPublicKeyInfo on the key's curve")
            }
            do {
                return try parse(spki)
            } catch {
                throw Failure(.invalidArgument, "the peer public key is not a SubjectPublicKeyInfo on the key's curve")
            }
        }

        /// The HMAC of `message`.
        func mac(_ message: SecretBytes) throws(Failure) -> [UInt8] {
            guard case .hmac(let key, let spec) = self else { throw Failure(.wrongKind, "not an HMAC key") }
            return message.withUnsafeBytes { bytes in
                switch spec {
                case .hmac224: Array(HMAC<SHA224>.authenticationCode(for: bytes, using: key))
                case .hmac384: Array(HMAC<SHA384>.authenticationCode(for: bytes, using: key))
                case .hmac512: Array(HMAC<SHA512>.authenticationCode(for: bytes, using: key))
                default: Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
                }
            }
        }

        /// Whether `mac` is the HMAC of `message`, compared in constant time.
        func verifyMac(_ mac: [UInt8], _ message: SecretBytes) throws(Failure) -> Bool {
            guard case .hmac(let key, let spec) = self else { throw Failure(.wrongKind, "not an HMAC key") }
            return message.withUnsafeBytes { bytes in
                switch spec {
                case .hmac224: HMAC<SHA224>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
                case .hmac384: HMAC<SHA384>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
                case .hmac512: HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
                default: HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
                }
            }
        }
    }
}

/// A digest as ECDSA signs it: the hash of a RAW message, or a DIGEST message of exactly the hash's size
/// (`invalidArgument` otherwise).
struct Prehashed<H: HashFunction>: Digest {
    static var byteCount: Int { H.Digest.byteCount }
    private let bytes: [UInt8]

    init(_ message: SecretBytes, _ type: SessionCommand.MessageType) throws(Failure) {
        switch type {
        case .raw:
            bytes = message.withUnsafeBytes { Array(H.hash(data: $0)) }
        case .digest:
            guard message.count == Self.byteCount else {
                throw Failure(.invalidArgument, "a DIGEST message must be \(Self.byteCount) bytes")
            }
            bytes = message.withUnsafeBytes { Array($0) }
        }
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    var description: String { "Prehashed(\(Self.byteCount) bytes)" }
}

/// A NIST-curve private key's PKCS#8 DER (swift-crypto's `derRepresentation`).
protocol PKCS8Representable {
    var derRepresentation: Data { get }
}

extension PKCS8Representable {
    /// The PKCS#8 DER as a secret; swift-crypto's `Data` copy is wiped.
    var pkcs8Secret: SecretBytes {
        var data = derRepresentation
        defer { data.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        return SecretBytes(copying: data)
    }
}

extension P256.Signing.PrivateKey: PKCS8Representable {}
extension P384.Signing.PrivateKey: PKCS8Representable {}
extension P521.Signing.PrivateKey: PKCS8Representable {}
