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
        Array(BigEndianOctets(UInt64(value), count: 4))
    }

    /// `uint64be(value)`.
    public static func uint64(_ value: UInt64) -> [UInt8] {
        Array(BigEndianOctets(value, count: 8))
    }

    /// `LV(x) = uint32be(len(x)) ‖ x` (PROTOCOL §1).
    public static func lengthValue(_ bytes: some Collection<UInt8>) -> [UInt8] {
        uint32(UInt32(bytes.count)) + Array(bytes)
    }
}

/// The low `count` (at most 8) octets of `value`, most significant first, computed as they are read: a value
/// with no buffer and no closure, so appending them to a buffer allocates nothing (DER lengths and
/// INTEGERs, session AADs: written for every request).
public struct BigEndianOctets: RandomAccessCollection, Sendable {
    private let value: UInt64
    public let count: Int

    /// The low `count` octets of `value`.
    public init(_ value: UInt64, count: Int) {
        precondition((0...8).contains(count), "at most eight octets")
        self.value = value
        self.count = count
    }

    /// The low `count` octets of `value`'s two's complement.
    public init(_ value: Int64, count: Int) {
        self.init(UInt64(bitPattern: value), count: count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - position))) }
}
