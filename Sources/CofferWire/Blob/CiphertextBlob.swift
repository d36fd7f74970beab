import CofferCrypto
import Crypto

/// The symmetric ciphertext blob of PROTOCOL §8 (Encrypt, GenerateDataKey, ReEncrypt):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | format version `0x01` |
/// | 1 | 16 | KMS key ID |
/// | 17 | 16 | backing key ID |
/// | 33 | 16 | nonce `N` |
/// | 49 | 12 | GCM IV |
/// | 61 | n | ciphertext |
/// | 61+n | 16 | GCM tag |
///
/// `DEK = DeriveDEK(HBK, N, keyID)`, used once; AAD = the first 49 bytes ‖ `canonical(context)`.
public struct CiphertextBlob: Hashable, Sendable {
    /// The format version byte.
    public static let formatVersion: UInt8 = 0x01
    /// Bytes before the IV: version, key ID, backing key ID, nonce.
    public static let headerLength = 49

    /// The KMS key ID (16 bytes).
    public let keyID: [UInt8]
    /// The backing key ID (16 bytes).
    public let backingKeyID: [UInt8]
    /// The nonce `N` (16 bytes).
    public let nonce: [UInt8]
    /// `IV ‖ ct ‖ tag`.
    public let sealed: [UInt8]

    /// Parses a blob; refuses a wrong version or a length outside 78 … 4173 bytes.
    public init(bytes: some Collection<UInt8>) throws(WireError) {
        let bytes = Array(bytes)
        try DERReader.checkSize(bytes.count, WireLimits.blobBytes, "ciphertext blob")
        guard bytes[0] == Self.formatVersion else { throw WireError(.unknownVersion, "ciphertext blob version") }
        keyID = Array(bytes[1..<17])
        backingKeyID = Array(bytes[17..<33])
        nonce = Array(bytes[33..<49])
        sealed = Array(bytes[49...])
    }

    private init(keyID: [UInt8], backingKeyID: [UInt8], nonce: [UInt8], sealed: [UInt8]) {
        self.keyID = keyID
        self.backingKeyID = backingKeyID
        self.nonce = nonce
        self.sealed = sealed
    }

    /// The first 49 bytes.
    public var header: [UInt8] { Self.header(keyID: keyID, backingKeyID: backingKeyID, nonce: nonce) }

    /// The whole blob.
    public var bytes: [UInt8] { header + sealed }

    private static func header(keyID: [UInt8], backingKeyID: [UInt8], nonce: [UInt8]) -> [UInt8] {
        [formatVersion] + keyID + backingKeyID + nonce
    }

    /// Seals `plaintext` under a fresh DEK derived from `backingKey` and a fresh random nonce, with a fresh
    /// GCM IV: both drawn in one call to the system's generator.
    public static func seal(
        _ plaintext: SecretBytes, backingKey: SymmetricKey, keyID: [UInt8], backingKeyID: [UInt8],
        context: EncryptionContext
    ) throws(CofferCryptoError) -> CiphertextBlob {
        let fresh = SystemEntropy.bytes(count: DeriveDEK.nonceLength + AEAD.ivLength)
        let result = plaintext.withUnsafeBytes { buffer in
            Result { () throws(CofferCryptoError) in
                try seal(
                    buffer, backingKey: backingKey, keyID: keyID, backingKeyID: backingKeyID, context: context,
                    nonce: Array(fresh.prefix(DeriveDEK.nonceLength)), iv: Array(fresh.suffix(AEAD.ivLength)))
            }
        }
        return try result.get()
    }

    /// Seal with a caller-chosen nonce and IV (`iv` nil: a fresh one): the known-answer tests', and the one
    /// above with both freshly drawn.
    package static func seal(
        _ plaintext: some Collection<UInt8>, backingKey: SymmetricKey, keyID: [UInt8], backingKeyID: [UInt8],
        context: EncryptionContext, nonce: [UInt8], iv: [UInt8]?
    ) throws(CofferCryptoError) -> CiphertextBlob {
        guard keyID.count == 16, backingKeyID.count == 16, nonce.count == 16,
            WireLimits.plaintextBytes.contains(plaintext.count)
        else { throw CofferCryptoError.invalidLengthError }
        let dek = try DeriveDEK.derive(backingKey: backingKey, nonce: nonce, keyID: keyID)
        let aad = header(keyID: keyID, backingKeyID: backingKeyID, nonce: nonce) + context.canonicalBytes
        let sealed = try AEAD.seal(plaintext, key: dek, aad: aad, iv: iv)
        return CiphertextBlob(keyID: keyID, backingKeyID: backingKeyID, nonce: nonce, sealed: sealed)
    }

    /// Opens the blob with its backing key under `context`; every failure is `authenticationFailed`.
    public func open(backingKey: SymmetricKey, context: EncryptionContext) throws(CofferCryptoError) -> SecretBytes {
        let dek = try DeriveDEK.derive(backingKey: backingKey, nonce: nonce, keyID: keyID)
        return try AEAD.open(sealed, key: dek, aad: header + context.canonicalBytes)
    }
}

extension CofferCryptoError {
    /// A length the blob format cannot hold.
    static var invalidLengthError: CofferCryptoError {
        CofferCryptoError(.invalidLength, "blob fields have fixed lengths and the plaintext is 1 … 4096 bytes")
    }
}
