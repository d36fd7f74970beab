import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import Foundation

/// The signing and MAC backing keys (docs/protocol.md, "Signing and MAC keys"): how each spec's material
/// is made, what a token of it holds, and the work it does. Material exists only inside the HSM, and
/// outside it only sealed in a token: raw bytes for HMAC keys, PKCS#8 DER for ECC and Ed25519 keys
/// (PROTOCOL §7's rule for token material).
enum SigningKeys {
    /// The specs of this kind and what each is.
    enum Spec: String, CaseIterable {
        case hmac256 = "HMAC_256"
        case hmac384 = "HMAC_384"
        case hmac512 = "HMAC_512"
        case p256 = "ECC_NIST_P256"
        case p384 = "ECC_NIST_P384"
        case p521 = "ECC_NIST_P521"
        case ed25519 = "ECC_NIST_EDWARDS25519"

        /// The one algorithm a key of this spec signs or MACs with (AWS KMS allows exactly one for each
        /// of these specs; Ed25519's pre-hashed variant is not offered: swift-crypto has no Ed25519ph).
        var algorithm: String {
            switch self {
            case .hmac256: "HMAC_SHA_256"
            case .hmac384: "HMAC_SHA_384"
            case .hmac512: "HMAC_SHA_512"
            case .p256: "ECDSA_SHA_256"
            case .p384: "ECDSA_SHA_384"
            case .p521: "ECDSA_SHA_512"
            case .ed25519: "ED25519_SHA_512"
            }
        }

        var isMAC: Bool { [.hmac256, .hmac384, .hmac512].contains(self) }

        /// The bytes of an HMAC key, and of a message given as a digest.
        var byteCount: Int {
            switch self {
            case .hmac256, .p256: 32
            case .hmac384, .p384: 48
            case .hmac512, .p521, .ed25519: 64
            }
        }
    }

    /// RFC 8410's PKCS#8 prefix of an Ed25519 private key (followed by the 32-byte seed), and its SPKI prefix.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]
    static let ed25519SPKIPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// New material for `spec`, drawn from `random`.
    static func generate(_ spec: Spec, random: inout some RandomSource) -> SecretBytes {
        switch spec {
        case .hmac256, .hmac384, .hmac512:
            return random.secret(count: spec.byteCount)
        case .p256:
            return pkcs8(scalar(of: 32, random: &random) { try P256.Signing.PrivateKey(rawRepresentation: $0) })
        case .p384:
            return pkcs8(scalar(of: 48, random: &random) { try P384.Signing.PrivateKey(rawRepresentation: $0) })
        case .p521:
            return pkcs8(
                scalar(of: 66, topByteMask: 0x01, random: &random) {
                    try P521.Signing.PrivateKey(rawRepresentation: $0)
                })
        case .ed25519:
            let seed = random.secret(count: 32)
            var bytes = ed25519PKCS8Prefix
            seed.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return SecretBytes(consuming: &bytes)
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

    private static func pkcs8(_ key: some PKCS8Representable) -> SecretBytes {
        var der = key.pkcs8Bytes
        return SecretBytes(consuming: &der)
    }

    /// A token's material, opened for use.
    enum Key {
        case hmac(SymmetricKey, Spec)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)

        /// Reads `material` of `spec` (already authenticated by the token's seal: a failure here is an
        /// internal fault, not the caller's).
        init(_ material: SecretBytes, spec: Spec) throws(Failure) {
            do {
                switch spec {
                case .hmac256, .hmac384, .hmac512:
                    guard material.count == spec.byteCount else { throw Failure(.internal, "HMAC key size") }
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
            }
        }

        /// A signature over `message` (raw or the algorithm's digest): ECDSA in DER (X9.62), Ed25519 as
        /// its 64 bytes, as AWS KMS returns them.
        func sign(_ message: SecretBytes, _ type: SessionCommand.MessageType) throws(Failure) -> [UInt8] {
            do {
                switch self {
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
            _ signature: [UInt8], _ message: SecretBytes, _ type: SessionCommand.MessageType
        ) throws(Failure) -> Bool {
            switch self {
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

        /// The HMAC of `message`.
        func mac(_ message: SecretBytes) throws(Failure) -> [UInt8] {
            guard case .hmac(let key, let spec) = self else { throw Failure(.wrongKind, "not an HMAC key") }
            return message.withUnsafeBytes { bytes in
                switch spec {
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

/// The PKCS#8 DER of a NIST-curve private key.
protocol PKCS8Representable {
    var pkcs8Bytes: [UInt8] { get }
}

extension P256.Signing.PrivateKey: PKCS8Representable { var pkcs8Bytes: [UInt8] { Array(derRepresentation) } }
extension P384.Signing.PrivateKey: PKCS8Representable { var pkcs8Bytes: [UInt8] { Array(derRepresentation) } }
extension P521.Signing.PrivateKey: PKCS8Representable { var pkcs8Bytes: [UInt8] { Array(derRepresentation) } }
