import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1

/// Imported key material (docs/protocol.md, "Imported key material"): the RSA wrapping keys that
/// GetParametersForImport hands out as importWrapping tokens, and the unwrapping, checking and sealing of
/// material that ImportKeyMaterial brings. The material is in the clear only inside this process.
enum KeyImport {
    /// The wrapping algorithms, as AWS KMS names them.
    enum Algorithm: String, CaseIterable {
        case oaepSHA1 = "RSAES_OAEP_SHA_1"
        case oaepSHA256 = "RSAES_OAEP_SHA_256"
        case keyWrapSHA1 = "RSA_AES_KEY_WRAP_SHA_1"
        case keyWrapSHA256 = "RSA_AES_KEY_WRAP_SHA_256"

        /// The RSA-OAEP step: OAEP with SHA-1 or SHA-256, as ``SigningKeys/RSAAlgorithm`` defines it.
        var oaep: SigningKeys.RSAAlgorithm {
            switch self {
            case .oaepSHA1, .keyWrapSHA1: .oaepSHA1
            case .oaepSHA256, .keyWrapSHA256: .oaepSHA256
            }
        }
    }

    /// The longest an import token may live: AWS's 24 hours.
    static let lifetime: Int64 = 86_400

    /// `<WrappingKeySpec>/<Algorithm>` split and checked (`unsupported` otherwise).
    static func wrapping(_ text: String) throws(Failure) -> (SigningKeys.Spec, Algorithm) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let spec = SigningKeys.Spec(rawValue: String(parts[0])),
            [.rsa2048, .rsa3072, .rsa4096].contains(spec), let algorithm = Algorithm(rawValue: String(parts[1]))
        else { throw Failure(.unsupported, "wrapping \(text) is not supported") }
        return (spec, algorithm)
    }

    /// Unwraps `encrypted` with the wrapping key: RSA-OAEP of the material, or RSA-OAEP of an AES key
    /// followed by the material under AES Key Wrap with Padding. Every failure is `invalidCiphertext`.
    static func unwrap(
        _ encrypted: [UInt8], key: _RSA.Signing.PrivateKey, algorithm: Algorithm
    ) throws(Failure) -> SecretBytes {
        do {
            let rsa = try _RSA.Encryption.PrivateKey(derRepresentation: key.derRepresentation)
            guard let padding = algorithm.oaep.encryptionPadding else { throw Failure(.internal, "OAEP padding") }
            switch algorithm {
            case .oaepSHA1, .oaepSHA256:
                var material = Array(try rsa.decrypt(encrypted, padding: padding))
                return SecretBytes(consuming: &material)
            case .keyWrapSHA1, .keyWrapSHA256:
                let split = key.keySizeInBits / 8
                guard encrypted.count > split else { throw Failure(.invalidCiphertext, "too short") }
                var aesKey = Array(try rsa.decrypt(encrypted[..<split], padding: padding))
                defer { aesKey.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
                guard [16, 24, 32].contains(aesKey.count) else { throw Failure(.invalidCiphertext, "AES key size") }
                return try KeyWrapWithPadding.unwrap(Array(encrypted[split...]), kek: SymmetricKey(data: aesKey))
            }
        } catch {
            throw Failure(.invalidCiphertext, "the encrypted key material does not unwrap under this import token")
        }
    }

    /// Material checked for the key's backing spec and put in the token's form (`invalidArgument` when it
    /// is not key material of that spec): 32 bytes for AES_256; AWS's lengths for HMAC keys; PKCS#8 of
    /// the right curve or size for ECC, Ed25519 and RSA keys, re-encoded as this HSM encodes its own.
    static func normalize(_ material: SecretBytes, spec: String) throws(Failure) -> SecretBytes {
        let refusal = Failure(.invalidArgument, "the key material is not a key of spec \(spec)")
        if spec == SessionCommands.symmetricSpec {
            guard material.count == 32 else { throw refusal }
            return material
        }
        guard let signing = SigningKeys.Spec(rawValue: spec) else {
            throw Failure(.unsupported, "importing \(spec) is not supported")
        }
        do {
            switch signing {
            case .hmac224, .hmac256, .hmac384, .hmac512:
                guard signing.importableLengths.contains(material.count) else { throw refusal }
                return material
            case .p256:
                try requireCurve(material, SigningKeys.p256Curve)
                return try material.withUnsafeBytes { try P256.Signing.PrivateKey(derRepresentation: $0) }.pkcs8Secret
            case .p384:
                try requireCurve(material, SigningKeys.p384Curve)
                return try material.withUnsafeBytes { try P384.Signing.PrivateKey(derRepresentation: $0) }.pkcs8Secret
            case .p521:
                try requireCurve(material, SigningKeys.p521Curve)
                return try material.withUnsafeBytes { try P521.Signing.PrivateKey(derRepresentation: $0) }.pkcs8Secret
            case .ed25519:
                _ = try SigningKeys.Key(material, spec: .ed25519)
                return material
            case .rsa2048, .rsa3072, .rsa4096:
                let key = try material.withUnsafeBytes { try _RSA.Signing.PrivateKey(derRepresentation: $0) }
                guard key.keySizeInBits == signing.byteCount * 8 else { throw refusal }
                var der = Array(key.pkcs8DERRepresentation)
                return SecretBytes(consuming: &der)
            case .mlDSA65, .mlDSA87:
                // RFC 9881's seed-only PKCS#8 form, byte for byte: the token keeps the 32-byte seed.
                let prefix = signing == .mlDSA65 ? SigningKeys.mlDSA65PKCS8Prefix : SigningKeys.mlDSA87PKCS8Prefix
                let seed = try material.withUnsafeBytes { bytes throws(Failure) -> SecretBytes in
                    guard bytes.count == prefix.count + 32, bytes.prefix(prefix.count).elementsEqual(prefix) else {
                        throw refusal
                    }
                    return SecretBytes(copying: bytes.suffix(32))
                }
                _ = try SigningKeys.Key(seed, spec: signing)
                return seed
            }
        } catch let failure as Failure {
            throw failure.code == .internal ? refusal : failure
        } catch {
            throw refusal
        }
    }

    /// A PKCS#8 `PrivateKeyInfo` must name id-ecPublicKey with the spec's curve: swift-crypto reads the
    /// scalar of any curve's key as one of its own curve, so a secp256k1 key would pass as P-256.
    private static func requireCurve(_ material: SecretBytes, _ curve: ASN1ObjectIdentifier) throws {
        var bytes = material.withUnsafeBytes { [UInt8]($0) }
        // The parse holds references to `bytes` only inside `names(_:_:)`, so the wipe below finds the
        // buffer unshared and wipes it in place.
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        guard try names(bytes, curve) else {
            throw Failure(.invalidArgument, "the key material is not a PKCS#8 key of the expected curve")
        }
    }

    private static func names(_ bytes: [UInt8], _ curve: ASN1ObjectIdentifier) throws -> Bool {
        let node = try DER.parse(bytes)
        guard case .constructed(let fields) = node.content else { return false }
        var children = fields.makeIterator()
        guard let version = children.next(), version.identifier == .integer, let algorithm = children.next() else {
            return false
        }
        return namesCurve(algorithm, curve)
    }

    private static func namesCurve(_ algorithm: ASN1Node, _ curve: ASN1ObjectIdentifier) -> Bool {
        ECPublicKeyInfo.namesCurve(algorithm, curve)
    }

    /// The id of imported material: SHA-256 of a label, the key id and the material. A re-import must
    /// bring the same id; the id reveals nothing usable about high-entropy material.
    static func materialID(keyID: [UInt8], material: SecretBytes) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: Array("coffer key material id v1".utf8) + [0] + keyID)
        material.withUnsafeBytes { hash.update(bufferPointer: $0) }
        return Array(hash.finalize())
    }
}

extension SigningKeys.Spec {
    /// The material lengths AWS KMS imports for HMAC keys.
    var importableLengths: ClosedRange<Int> {
        switch self {
        case .hmac224: 28...64
        case .hmac256: 32...64
        case .hmac384: 48...128
        case .hmac512: 64...128
        default: byteCount...byteCount
        }
    }
}
