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

    /// `Seal(K, pt, aad)` with a fresh random IV. The plaintext is read in place, never copied out of its
    /// zeroizing storage.
    public static func seal(
        _ plaintext: SecretBytes, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> [UInt8] {
        let result = plaintext.withUnsafeBytes { buffer in
            Result { () throws(CofferCryptoError) in try sealContiguous(buffer, key: key, aad: aad, iv: nil) }
        }
        return try result.get()
    }

    /// `Seal` of bytes that are not themselves secret-typed (for example a DER message being sent).
    public static func seal(
        _ plaintext: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> [UInt8] {
        try seal(plaintext, key: key, aad: aad, iv: nil)
    }

    /// `Seal` with a caller-chosen IV (nil: a fresh one): for known-answer tests, and for callers that draw a
    /// fresh IV together with other random bytes (``CiphertextBlob``); never a fixed or reused IV.
    package static func seal(
        _ plaintext: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>, iv: [UInt8]?
    ) throws(CofferCryptoError) -> [UInt8] {
        let contiguous = plaintext.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CofferCryptoError) in
                try sealContiguous(UnsafeRawBufferPointer(buffer), key: key, aad: aad, iv: iv)
            }
        }
        if let contiguous { return try contiguous.get() }
        var copy = Array(plaintext)
        defer { copy.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        return try seal(copy, key: key, aad: aad, iv: iv)
    }

    /// `IV ‖ ct ‖ tag` of `plaintext`, with `iv` or a fresh one.
    private static func sealContiguous(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, aad: some Collection<UInt8>, iv: [UInt8]?
    ) throws(CofferCryptoError) -> [UInt8] {
        guard key.bitCount == 256 else { throw CofferCryptoError(.invalidLength, "Seal takes a 256-bit key") }
        do {
            let nonce = try AES.GCM.Nonce(data: iv ?? SystemEntropy.bytes(count: ivLength))
            let box = try withContiguous(aad) { aad in
                try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: aad)
            }
            // A 12-byte IV always has the combined form.
            guard let combined = box.combined else { throw CofferCryptoError(.invalidLength, "AES-GCM seal failed") }
            return combined.withUnsafeBytes { [UInt8]($0) }
        } catch {
            throw CofferCryptoError(.invalidLength, "AES-GCM seal failed")
        }
    }

    /// `Open(K, sealed, aad)`: the plaintext, or ``CofferCryptoError/Code/authenticationFailed``.
    public static func open(
        _ sealed: some Collection<UInt8>, key: SymmetricKey, aad: some Collection<UInt8>
    ) throws(CofferCryptoError) -> SecretBytes {
        guard key.bitCount == 256, sealed.count >= overhead else { throw .authenticationFailed }
        do {
            let box = try withContiguous(sealed) { try AES.GCM.SealedBox(combined: $0) }
            var plaintext = try withContiguous(aad) { aad in try AES.GCM.open(box, using: key, authenticating: aad) }
            defer { plaintext.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
            return SecretBytes(copying: plaintext)
        } catch {
            throw .authenticationFailed
        }
    }

    /// Calls `body` with `bytes` as one contiguous buffer, copying them only when they are not already.
    private static func withContiguous<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        if let result = try bytes.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(bytes).withUnsafeBytes(body)
    }
}
