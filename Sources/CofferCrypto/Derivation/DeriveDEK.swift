import Crypto

/// `DeriveDEK(HBK, N, keyID)` of PROTOCOL §1 and §8: the SP 800-108 KDF in counter mode with
/// HMAC-SHA256 as PRF, one iteration for L = 256 bits:
/// `HMAC(HBK, 00000001 ‖ "coffer dek v1" ‖ 0x00 ‖ N ‖ keyID ‖ 00000100)`.
public enum DeriveDEK {
    /// The nonce `N` and the KMS key ID are 16 bytes each (§2).
    public static let nonceLength = 16
    /// The KMS key ID length (§2).
    public static let keyIDLength = 16

    /// The PRF input (the SP 800-108 `[i] ‖ Label ‖ 0x00 ‖ Context ‖ [L]`), with Context = `N ‖ keyID`.
    public static func prfInput(nonce: some Collection<UInt8>, keyID: some Collection<UInt8>) -> [UInt8] {
        var input = BigEndian.uint32(1)
        input.reserveCapacity(4 + Label.dek.bytes.count + 1 + nonce.count + keyID.count + 4)
        input += Label.dek.bytes
        input.append(0x00)
        input += nonce
        input += keyID
        input += BigEndian.uint32(256)
        return input
    }

    /// Derives the 256-bit DEK, used for exactly one seal.
    public static func derive(
        backingKey: SymmetricKey, nonce: some Collection<UInt8>, keyID: some Collection<UInt8>
    ) throws(CofferCryptoError) -> SymmetricKey {
        guard nonce.count == nonceLength, keyID.count == keyIDLength, backingKey.bitCount == 256 else {
            throw CofferCryptoError(.invalidLength, "DeriveDEK takes a 32-byte HBK, a 16-byte N and a 16-byte keyID")
        }
        let mac = HMAC<SHA256>.authenticationCode(for: prfInput(nonce: nonce, keyID: keyID), using: backingKey)
        return mac.withUnsafeBytes { SymmetricKey(data: $0) }
    }
}
