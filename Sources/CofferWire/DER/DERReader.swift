import CofferCrypto
import SwiftASN1

/// Strict, schema-driven reading of the fields of one constructed DER value (PROTOCOL §2).
///
/// swift-asn1 does the TLV layer in DER mode (definite, minimal lengths; minimal tags; no trailing
/// bytes); this reader adds what DER leaves to the schema: the exact tag and constructed bit of each
/// field, minimal INTEGERs within a range, BOOLEAN as 00/FF, GeneralizedTime as `YYYYMMDDHHMMSSZ`,
/// valid UTF-8, sizes, and no missing or extra fields.
struct DERReader {
    private var iterator: ASN1NodeCollection.Iterator
    private let what: String

    /// Reads the children of a SEQUENCE (or of a value with another constructed `identifier`).
    init(_ node: ASN1Node, _ what: String, identifier: ASN1Identifier = .sequence) throws(WireError) {
        guard node.identifier == identifier else {
            throw WireError(.unexpectedTag, "\(what): expected \(identifier), got \(node.identifier)")
        }
        guard case .constructed(let children) = node.content else {
            throw WireError(.badConstructed, "\(what): must be constructed")
        }
        iterator = children.makeIterator()
        self.what = what
    }

    /// Parses `bytes` as exactly one DER value.
    static func parse(_ bytes: some Collection<UInt8>, _ what: String) throws(WireError) -> ASN1Node {
        do {
            return try DER.parse(Array(bytes))
        } catch {
            throw WireError(.der, "\(what): \(error)")
        }
    }

    // MARK: Fields

    /// The next field, whatever it is.
    mutating func node(_ field: String) throws(WireError) -> ASN1Node {
        guard let node = iterator.next() else { throw WireError(.missingField, "\(what).\(field)") }
        return node
    }

    /// The next field if it carries the context tag `number` (an IMPLICIT OPTIONAL field), else nil.
    mutating func optionalContext(_ number: UInt) -> ASN1Node? {
        var lookahead = iterator
        guard let node = lookahead.next(),
            node.identifier == ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
        else { return nil }
        iterator = lookahead
        return node
    }

    /// Fails if any field is left.
    func end() throws(WireError) {
        var rest = iterator
        if rest.next() != nil { throw WireError(.extraField, "\(what): unexpected field(s) at the end") }
    }

    mutating func integer(_ field: String, _ range: ClosedRange<Int64>) throws(WireError) -> Int64 {
        try Self.integer(try node(field), "\(what).\(field)", range)
    }

    mutating func int(_ field: String, _ range: ClosedRange<Int>) throws(WireError) -> Int {
        Int(try integer(field, Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    mutating func enumerated(_ field: String, _ range: ClosedRange<Int64>) throws(WireError) -> Int64 {
        try Self.integer(try node(field), "\(what).\(field)", range, identifier: .enumerated)
    }

    /// An ENUMERATED whose value must be one of `E`'s cases.
    mutating func enumerated<E: RawRepresentable>(_ field: String, as type: E.Type) throws(WireError) -> E
    where E.RawValue == Int64 {
        let raw = try enumerated(field, Int64.min...Int64.max)
        guard let value = E(rawValue: raw) else {
            throw WireError(.outOfRange, "\(what).\(field): unknown value \(raw)")
        }
        return value
    }

    mutating func boolean(_ field: String) throws(WireError) -> Bool {
        try Self.boolean(try node(field), "\(what).\(field)")
    }

    mutating func null(_ field: String) throws(WireError) {
        try Self.null(try node(field), "\(what).\(field)")
    }

    mutating func octets(_ field: String, _ sizes: ClosedRange<Int>) throws(WireError) -> [UInt8] {
        try Self.octets(try node(field), "\(what).\(field)", sizes)
    }

    mutating func octets(_ field: String, count: Int) throws(WireError) -> [UInt8] {
        try octets(field, count...count)
    }

    /// An OCTET STRING bounded only by the frame.
    mutating func octets(_ field: String) throws(WireError) -> [UInt8] {
        try octets(field, 0...WireLimits.frameBytes.upperBound)
    }

    mutating func utf8(_ field: String, _ sizes: ClosedRange<Int>) throws(WireError) -> String {
        try Self.utf8(try node(field), "\(what).\(field)", sizes)
    }

    /// A name: operator, host, role, command, domain name or spec (1 … 128 bytes).
    mutating func name(_ field: String) throws(WireError) -> String {
        try utf8(field, WireLimits.nameBytes)
    }

    mutating func hsmID(_ field: String) throws(WireError) -> String {
        try Self.hsmID(try node(field), "\(what).\(field)")
    }

    mutating func time(_ field: String) throws(WireError) -> WireTime {
        try WireTime(node: try node(field), "\(what).\(field)")
    }

    mutating func publicKey(_ field: String) throws(WireError) -> P384PublicKey {
        let bytes = try octets(field)
        do {
            return try P384PublicKey(spki: bytes)
        } catch {
            throw WireError(.badPublicKey, "\(what).\(field): \(error)")
        }
    }

    mutating func signature(_ field: String = "signature") throws(WireError) -> [UInt8] {
        try octets(field, 0...WireLimits.signatureMaximum)
    }

    /// A `SEQUENCE OF` with at most `maximum` entries, each read by `element`.
    mutating func sequence<T>(
        _ field: String, maximum: Int = WireLimits.listMaximum,
        _ element: (ASN1Node) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        try Self.sequence(try node(field), "\(what).\(field)", maximum: maximum, element)
    }

    // MARK: Values (also used outside a SEQUENCE)

    static func sequence<T>(
        _ node: ASN1Node, _ what: @autoclosure () -> String, maximum: Int = WireLimits.listMaximum,
        _ element: (ASN1Node) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        guard node.identifier == .sequence else {
            throw WireError(.unexpectedTag, "\(what()): expected SEQUENCE OF, got \(node.identifier)")
        }
        guard case .constructed(let children) = node.content else {
            throw WireError(.badConstructed, "\(what()): must be constructed")
        }
        var out: [T] = []
        for child in children {
            guard out.count < maximum else { throw WireError(.tooMany, "\(what()): more than \(maximum) entries") }
            out.append(try element(child))
        }
        return out
    }

    static func primitive(
        _ node: ASN1Node, _ what: @autoclosure () -> String, _ identifier: ASN1Identifier
    ) throws(WireError) -> ArraySlice<UInt8> {
        guard node.identifier == identifier else {
            throw WireError(.unexpectedTag, "\(what()): expected \(identifier), got \(node.identifier)")
        }
        guard case .primitive(let content) = node.content else {
            throw WireError(.badConstructed, "\(what()): must be primitive")
        }
        return content
    }

    static func integer(
        _ node: ASN1Node, _ what: @autoclosure () -> String, _ range: ClosedRange<Int64>,
        identifier: ASN1Identifier = .integer
    ) throws(WireError) -> Int64 {
        let content = try primitive(node, what(), identifier)
        guard let first = content.first else { throw WireError(.nonMinimalInteger, "\(what()): empty INTEGER") }
        if content.count > 1 {
            let second = content[content.startIndex + 1]
            if (first == 0x00 && second < 0x80) || (first == 0xff && second >= 0x80) {
                throw WireError(.nonMinimalInteger, what())
            }
        }
        // Nine or more minimal bytes is outside Int64, so outside every range Coffer uses.
        guard content.count <= 8 else { throw WireError(.outOfRange, "\(what()): too large") }
        var value: Int64 = first >= 0x80 ? -1 : 0
        for byte in content { value = (value << 8) | Int64(byte) }
        guard range.contains(value) else { throw WireError(.outOfRange, "\(what()) = \(value) not in \(range)") }
        return value
    }

    static func boolean(_ node: ASN1Node, _ what: @autoclosure () -> String) throws(WireError) -> Bool {
        let content = try primitive(node, what(), .boolean)
        switch Array(content) {
        case [0xff]: return true
        case [0x00]: return false
        default: throw WireError(.badBoolean, "\(what()): a DER BOOLEAN is 00 or ff")
        }
    }

    static func null(_ node: ASN1Node, _ what: @autoclosure () -> String) throws(WireError) {
        guard try primitive(node, what(), .null).isEmpty else { throw WireError(.badNull, what()) }
    }

    static func octets(
        _ node: ASN1Node, _ what: @autoclosure () -> String, _ sizes: ClosedRange<Int>
    ) throws(WireError) -> [UInt8] {
        let content = try primitive(node, what(), .octetString)
        try checkSize(content.count, sizes, what())
        return Array(content)
    }

    static func utf8(
        _ node: ASN1Node, _ what: @autoclosure () -> String, _ sizes: ClosedRange<Int>
    ) throws(WireError) -> String {
        let content = try primitive(node, what(), .utf8String)
        try checkSize(content.count, sizes, what())
        guard let text = String(validating: content, as: UTF8.self) else {
            throw WireError(.badUTF8, "\(what()): not valid UTF-8")
        }
        return text
    }

    static func name(_ node: ASN1Node, _ what: @autoclosure () -> String) throws(WireError) -> String {
        try utf8(node, what(), WireLimits.nameBytes)
    }

    static func hsmID(_ node: ASN1Node, _ what: @autoclosure () -> String) throws(WireError) -> String {
        let text = try utf8(node, what(), 0...WireLimits.hsmIDLength)
        try WireValidation.checkHSMID(text, what())
        return text
    }

    static func checkSize(_ count: Int, _ sizes: ClosedRange<Int>, _ what: @autoclosure () -> String) throws(WireError)
    {
        if sizes.count == 1, count != sizes.lowerBound {
            throw WireError(.badSize, "\(what()): \(count) bytes, need exactly \(sizes.lowerBound)")
        }
        if count > sizes.upperBound { throw WireError(.tooLarge, "\(what()): \(count) bytes > \(sizes.upperBound)") }
        if count < sizes.lowerBound { throw WireError(.badSize, "\(what()): \(count) bytes, need \(sizes)") }
    }

    /// The one value inside an EXPLICIT context tag (a CHOICE alternative), with its own tag.
    static func explicitContent(_ node: ASN1Node, _ what: @autoclosure () -> String) throws(WireError) -> ASN1Node {
        guard case .constructed(let children) = node.content else {
            throw WireError(.badConstructed, "\(what()): an explicit tag must be constructed")
        }
        var iterator = children.makeIterator()
        guard let inner = iterator.next(), iterator.next() == nil else {
            throw WireError(.badExplicit, "\(what()): an explicit tag holds exactly one value")
        }
        return inner
    }
}

/// Checks shared by the reader and the builders.
enum WireValidation {
    /// A `hsmID` is exactly 32 lowercase hex characters (§2, §3).
    static func checkHSMID(_ text: String, _ what: @autoclosure () -> String) throws(WireError) {
        let bytes = Array(text.utf8)
        let isLowerHex = bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        guard bytes.count == WireLimits.hsmIDLength, isLowerHex else {
            throw WireError(.badHsmID, "\(what()): an hsmID is 32 lowercase hex characters")
        }
    }

    /// Entries ascending by their key bytes compared as unsigned byte strings, no duplicates (§2).
    static func checkSortedUnique(_ keys: [[UInt8]], _ what: String) throws(WireError) {
        for index in keys.indices.dropFirst() {
            let previous = keys[index - 1]
            let current = keys[index]
            if previous == current { throw WireError(.duplicate, "\(what): duplicate entry") }
            if !previous.lexicographicallyPrecedes(current) { throw WireError(.unsorted, "\(what): not sorted") }
        }
    }

    /// ``checkSortedUnique(_:_:)`` over UTF-8 strings, compared as bytes with no normalisation (§2).
    static func checkSortedUnique(_ keys: [String], _ what: String) throws(WireError) {
        try checkSortedUnique(keys.map { [UInt8]($0.utf8) }, what)
    }
}

extension Sequence {
    /// Sorted as PROTOCOL §2 sorts lists: by the key's UTF-8 bytes, never by `String` comparison
    /// (which normalises Unicode).
    package func sortedByUTF8(_ key: (Element) -> String) -> [Element] {
        sorted { [UInt8](key($0).utf8).lexicographicallyPrecedes([UInt8](key($1).utf8)) }
    }
}
