import Crypto

/// SHA-224 (FIPS 180-4 §5.3.2, §6.3): SHA-256's compression function from its own initial hash value,
/// the result truncated to 28 bytes. swift-crypto has no SHA-224, and AWS KMS's HMAC_224 keys need it;
/// this type conforms to swift-crypto's `HashFunction`, so `HMAC<SHA224>` is swift-crypto's own HMAC
/// (with its constant-time comparison). No branch or table index depends on the data hashed, so an HMAC
/// key's timing stays independent of its bytes.
package struct SHA224: HashFunction {
    /// SHA-256's block: 64 bytes.
    package static let blockByteCount = 64
    /// The digest type.
    package typealias Digest = SHA224Digest

    private var state: SIMD8<UInt32> = SHA224.initialValue
    /// The bytes of an unfinished block (fewer than 64).
    private var pending: [UInt8] = []
    /// The number of bytes hashed so far.
    private var length: UInt64 = 0

    /// A new hash.
    package init() {
        pending.reserveCapacity(Self.blockByteCount)
    }

    /// Adds bytes.
    package mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        length &+= UInt64(bufferPointer.count)
        var bytes = bufferPointer[...]
        if !pending.isEmpty {
            let take = min(Self.blockByteCount - pending.count, bytes.count)
            pending.append(contentsOf: bytes.prefix(take))
            bytes = bytes.dropFirst(take)
            guard pending.count == Self.blockByteCount else { return }
            pending.withUnsafeBytes { Self.compress(&state, $0[...]) }
            pending.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
            pending.removeAll(keepingCapacity: true)
        }
        while bytes.count >= Self.blockByteCount {
            Self.compress(&state, bytes.prefix(Self.blockByteCount))
            bytes = bytes.dropFirst(Self.blockByteCount)
        }
        pending.append(contentsOf: bytes)
    }

    /// The digest of everything added (the hash itself is unchanged).
    package func finalize() -> SHA224Digest {
        var state = self.state
        // At most two blocks of padding: reserved up front, so no reallocation leaves a copy behind.
        var tail = [UInt8]()
        tail.reserveCapacity(2 * Self.blockByteCount)
        tail.append(contentsOf: pending)
        tail.append(0x80)
        while tail.count % Self.blockByteCount != 56 { tail.append(0) }
        let bits = length &* 8
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        tail.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                Self.compress(&state, raw[offset..<offset + Self.blockByteCount])
                offset += Self.blockByteCount
            }
        }
        tail.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
        var out = [UInt8]()
        out.reserveCapacity(SHA224Digest.byteCount)
        for index in 0..<7 {
            let word = state[index]
            out += [
                UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word),
            ]
        }
        return SHA224Digest(bytes: out)
    }

    // MARK: FIPS 180-4

    /// H(0) of SHA-224 (§5.3.2).
    static let initialValue = SIMD8<UInt32>(
        0xc105_9ed8, 0x367c_d507, 0x3070_dd17, 0xf70e_5939, 0xffc0_0b31, 0x6858_1511, 0x64f9_8fa7, 0xbefa_4fa4)

    /// The SHA-256 constants K (§4.2.2).
    static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// The SHA-256 compression of one 64-byte block into `state` (§6.2.2).
    static func compress(_ state: inout SIMD8<UInt32>, _ block: Slice<UnsafeRawBufferPointer>) {
        var w = [UInt32](repeating: 0, count: 64)
        defer { w.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        var index = block.startIndex
        for t in 0..<16 {
            w[t] =
                UInt32(block[index]) << 24 | UInt32(block[index + 1]) << 16 | UInt32(block[index + 2]) << 8
                | UInt32(block[index + 3])
            index += 4
        }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, h) = (
            state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7]
        )
        for t in 0..<64 {
            let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        state &+= SIMD8(a, b, c, d, e, f, g, h)
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

/// A SHA-224 digest: 28 bytes.
package struct SHA224Digest: Digest {
    /// 28 bytes.
    package static let byteCount = 28
    private let bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The digest's bytes.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    /// `SHA224 digest: <hex>`.
    package var description: String { "SHA224 digest: " + Hex.encode(bytes) }
}
