import CofferCrypto
import SwiftASN1

/// `EncryptionContext ::= SEQUENCE OF SEQUENCE { key, value }`, sorted by key bytes, keys unique,
/// with the limits of PROTOCOL §2. Keys and values are compared as UTF-8 bytes with no Unicode
/// normalisation: `"é"` and `"e\u{301}"` are two keys.
public struct EncryptionContext: DERMessage, Hashable {
    /// One pair.
    public struct Pair: Hashable, Sendable {
        /// 1 … 2048 bytes.
        public let key: String
        /// 0 … 2048 bytes.
        public let value: String

        /// Builds a pair.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Sorted by key bytes.
    public let pairs: [Pair]

    /// The empty context.
    public static let empty = EncryptionContext(unchecked: [])

    /// Builds a context from a caller's pairs exactly as given (sorted here), checking §2's limits.
    public init(_ pairs: [Pair]) throws(WireError) {
        let sorted = pairs.sortedByUTF8(\.key)
        try Self.check(sorted)
        self.pairs = sorted
    }

    /// Builds a context from a dictionary (AWS's JSON form).
    public init(_ dictionary: [String: String]) throws(WireError) {
        try self.init(dictionary.map { Pair(key: $0.key, value: $0.value) })
    }

    private init(unchecked pairs: [Pair]) { self.pairs = pairs }

    public init(node: ASN1Node) throws(WireError) {
        let pairs = try DERReader.sequence(node, "EncryptionContext", maximum: WireLimits.contextPairsMaximum) {
            n throws(WireError) in
            var r = try DERReader(n, "EncryptionContext pair")
            let key = try r.utf8("key", 0...WireLimits.contextTotalMaximum)
            let value = try r.utf8("value", 0...WireLimits.contextTotalMaximum)
            try r.end()
            return Pair(key: key, value: value)
        }
        try Self.check(pairs)
        self.pairs = pairs
    }

    private static func check(_ pairs: [Pair]) throws(WireError) {
        guard pairs.count <= WireLimits.contextPairsMaximum else {
            throw WireError(.tooMany, "EncryptionContext: more than \(WireLimits.contextPairsMaximum) pairs")
        }
        var total = 0
        for pair in pairs {
            let (keyBytes, valueBytes) = (pair.key.utf8.count, pair.value.utf8.count)
            guard WireLimits.contextKeyBytes.contains(keyBytes), WireLimits.contextValueBytes.contains(valueBytes)
            else { throw WireError(.badSize, "EncryptionContext: keys are 1 … 2048 bytes, values 0 … 2048") }
            total += keyBytes + valueBytes
        }
        guard total <= WireLimits.contextTotalMaximum else {
            throw WireError(.tooLarge, "EncryptionContext: \(total) bytes > \(WireLimits.contextTotalMaximum)")
        }
        try WireValidation.checkSortedUnique(pairs.map(\.key), "EncryptionContext")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence(of: pairs) { c, pair in
            c.appendSequence { c in
                c.appendUTF8(pair.key)
                c.appendUTF8(pair.value)
            }
        }
    }

    /// `canonical(context)` of §8: each pair as `LV(key) ‖ LV(value)` in key-byte order; empty for none.
    public var canonicalBytes: [UInt8] {
        pairs.flatMap { BigEndian.lengthValue(Array($0.key.utf8)) + BigEndian.lengthValue(Array($0.value.utf8)) }
    }

    /// The context as AWS's JSON object.
    public var dictionary: [String: String] {
        Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}
