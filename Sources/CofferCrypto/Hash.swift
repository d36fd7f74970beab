import Crypto

/// `H` of PROTOCOL §1: SHA-384.
public enum Hash {
    /// The length of `H`'s output in bytes.
    public static let length = 48

    /// `H(data)` as 48 bytes.
    public static func h(_ data: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA384()
        hasher.update(data: Array(data))
        return Array(hasher.finalize())
    }

    /// `H` of several byte strings concatenated.
    public static func h(concatenating parts: [[UInt8]]) -> [UInt8] {
        var hasher = SHA384()
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }
}

/// Big-endian fixed-width encodings used by the KDFs and AADs.
public enum BigEndian {
    /// `uint32be(value)`.
    public static func uint32(_ value: UInt32) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    /// `uint64be(value)`.
    public static func uint64(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    /// `LV(x) = uint32be(len(x)) ‖ x` (PROTOCOL §1).
    public static func lengthValue(_ bytes: some Collection<UInt8>) -> [UInt8] {
        uint32(UInt32(bytes.count)) + Array(bytes)
    }
}
