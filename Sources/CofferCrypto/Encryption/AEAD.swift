import Crypto
import Foundation

/// `Seal` and `Open` of PROTOCOL §1: AES-256-GCM with a fresh random 12-byte IV and a 16-byte tag,
/// sealed output `IV ‖ ct ‖ tag`. Every failure to open is one error with no detail.
public enum AEAD {
    /// GCM IV length.
    public static let ivLength = 12
    /// GCM tag length.
    public static let tagLength = 16
    /// What `Seal` adds to the plaintext length.
    public static let overhead = ivLength + tagLength

    /// `Seal(K, pt, aad)` with a fresh random IV.
    public static func seal(
        _ plaintext: SecretBytes, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> [UInt8] {
        let result = plaintext.withUnsafeBytes { buffer in
            Result { () throws(CofferCryptoError) in try seal(buffer, key: key, aad: aad, iv: nil) }
        }
        return try result.get()
    }

    /// `Seal` of bytes that are not themselves secret-typed (for example a DER message being sent).
    public static func seal(
        _ plaintext: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> [UInt8] {
        try seal(plaintext, key: key, aad: aad, iv: nil)
    }

    /// `Seal` with a caller-chosen IV: only for known-answer tests, never for production paths.
    package static func seal(
        _ plaintext: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>, iv: [UInt8]?
    ) throws(CofferCryptoError) -> [UInt8] {
        guard key.bitCount == 256 else { throw CofferCryptoError(.invalidLength, "Seal takes a 256-bit key") }
        do {
            let nonce = try AES.GCM.Nonce(data: iv ?? SystemEntropy.bytes(count: ivLength))
            let box = try AES.GCM.seal(Array(plaintext), using: key, nonce: nonce, authenticating: Array(aad))
            return Array(nonce) + Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw CofferCryptoError(.invalidLength, "AES-GCM seal failed")
        }
    }

    /// `Open(K, sealed, aad)`: the plaintext, or ``CofferCryptoError/Code/authenticationFailed``.
    public static func open(
        _ sealed: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> SecretBytes {
        let sealed = Array(sealed)
        guard key.bitCount == 256, sealed.count >= overhead else { throw .authenticationFailed }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed[0..<ivLength]),
                ciphertext: sealed[ivLength..<(sealed.count - tagLength)],
                tag: sealed[(sealed.count - tagLength)...]
            )
            var plaintext = try AES.GCM.open(box, using: key, authenticating: Array(aad))
            defer { plaintext.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
            return SecretBytes(copying: plaintext)
        } catch {
            throw .authenticationFailed
        }
    }
}
