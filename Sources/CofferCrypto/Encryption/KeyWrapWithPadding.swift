import Crypto
import CryptoExtras

/// AES Key Wrap with Padding (RFC 5649, NIST SP 800-38F KWP), the second half of AWS KMS's
/// `RSA_AES_KEY_WRAP_SHA_*` import wrapping. swift-crypto offers RFC 3394 only (without padding and with
/// a fixed IV), so the wrapping function W and its inverse are written here over swift-crypto's AES block
/// function, and tested against RFC 5649's examples and Python's `cryptography`.
public enum KeyWrapWithPadding {
    /// RFC 5649's alternative initial value prefix.
    static let aivPrefix: [UInt8] = [0xa6, 0x59, 0x59, 0xa6]

    /// Wraps `plaintext` (1 … 2^32−1 bytes) under `kek` (an AES-128/192/256 key).
    public static func wrap(_ plaintext: SecretBytes, kek: SymmetricKey) throws(CofferCryptoError) -> [UInt8] {
        guard plaintext.count > 0 else { throw CofferCryptoError(.invalidLength, "KWP wraps 1 byte or more") }
        let length = plaintext.count
        // Sized once for the padding, so appending it cannot leave an unwiped copy behind.
        var blocks = [UInt8]()
        blocks.reserveCapacity((length + 7) / 8 * 8)
        plaintext.withUnsafeBytes { blocks.append(contentsOf: $0) }
        defer { blocks.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        blocks += [UInt8](repeating: 0, count: (8 - length % 8) % 8)
        let aiv = aivPrefix + withUnsafeBytes(of: UInt32(length).bigEndian) { Array($0) }
        do {
            if blocks.count == 8 {
                var block = aiv + blocks
                try AES.permute(&block, key: kek)
                return block
            }
            let n = blocks.count / 8
            var a = aiv
            for j in 0..<6 {
                for i in 1...n {
                    var block = a + blocks[(i - 1) * 8..<i * 8]
                    try AES.permute(&block, key: kek)
                    a = Array(block[0..<8])
                    xor(&a, counter: UInt64(n * j + i))
                    blocks.replaceSubrange((i - 1) * 8..<i * 8, with: block[8..<16])
                }
            }
            return a + blocks
        } catch {
            throw CofferCryptoError(.invalidLength, "the KEK is not an AES key")
        }
    }

    /// Unwraps; every failure (length, integrity, padding) is the one opaque `authenticationFailed`.
    public static func unwrap(_ ciphertext: [UInt8], kek: SymmetricKey) throws(CofferCryptoError) -> SecretBytes {
        guard ciphertext.count >= 16, ciphertext.count % 8 == 0 else { throw CofferCryptoError.authenticationFailed }
        var a: [UInt8] = []
        var blocks: [UInt8] = []
        // Registered before the loop: a throw inside it must not leave partly unwrapped material.
        defer { blocks.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        do {
            if ciphertext.count == 16 {
                var block = ciphertext
                try AES.inversePermute(&block, key: kek)
                a = Array(block[0..<8])
                blocks = Array(block[8..<16])
                block.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
            } else {
                let n = ciphertext.count / 8 - 1
                a = Array(ciphertext[0..<8])
                blocks = Array(ciphertext[8...])
                for j in stride(from: 5, through: 0, by: -1) {
                    for i in stride(from: n, through: 1, by: -1) {
                        xor(&a, counter: UInt64(n * j + i))
                        var block = a + blocks[(i - 1) * 8..<i * 8]
                        try AES.inversePermute(&block, key: kek)
                        a = Array(block[0..<8])
                        blocks.replaceSubrange((i - 1) * 8..<i * 8, with: block[8..<16])
                        block.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
                    }
                }
            }
        } catch {
            throw CofferCryptoError.authenticationFailed
        }
        // The checks of RFC 5649 §3: the prefix, 8(n−1) < MLI ≤ 8n, and zero padding. Each is evaluated
        // without an early exit on the secret-dependent parts.
        let length = a[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let prefixOK = ConstantTime.equals(Array(a[0..<4]), aivPrefix)
        let lengthOK = length > blocks.count - 8 && length <= blocks.count
        var padding: UInt8 = 0
        if lengthOK { for byte in blocks[length...] { padding |= byte } }
        guard prefixOK, lengthOK, padding == 0 else { throw CofferCryptoError.authenticationFailed }
        return SecretBytes(copying: blocks[0..<length])
    }

    private static func xor(_ a: inout [UInt8], counter: UInt64) {
        withUnsafeBytes(of: counter.bigEndian) { t in
            for index in 0..<8 { a[index] ^= t[index] }
        }
    }
}
