import CofferCrypto
import SwiftASN1

/// DER encoding helpers on swift-asn1's serializer. Encoders write what they are given; it is the
/// builders' and decoders' job to keep values within PROTOCOL §2's limits.
extension DER.Serializer {
    mutating func appendInteger(_ value: Int64, identifier: ASN1Identifier = .integer) {
        appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: DERInteger.content(value)) }
    }

    mutating func appendInteger(_ value: Int, identifier: ASN1Identifier = .integer) {
        appendInteger(Int64(value), identifier: identifier)
    }

    mutating func appendEnumerated(_ value: Int64) {
        appendInteger(value, identifier: .enumerated)
    }

    mutating func appendBoolean(_ value: Bool) {
        appendPrimitiveNode(identifier: .boolean) { $0.append(value ? 0xff : 0x00) }
    }

    mutating func appendNull() {
        appendPrimitiveNode(identifier: .null) { _ in }
    }

    mutating func appendOctets(_ bytes: some Sequence<UInt8>, identifier: ASN1Identifier = .octetString) {
        appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: bytes) }
    }

    mutating func appendUTF8(_ text: String) {
        appendPrimitiveNode(identifier: .utf8String) { $0.append(contentsOf: text.utf8) }
    }

    mutating func appendTime(_ time: WireTime, identifier: ASN1Identifier = .generalizedTime) {
        appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: time.generalizedTimeBytes) }
    }

    mutating func appendSequence(_ body: (inout DER.Serializer) -> Void) {
        appendConstructedNode(identifier: .sequence, body)
    }

    /// A `SEQUENCE OF` whose elements each write themselves.
    mutating func appendSequence<S: Sequence>(of elements: S, _ write: (inout DER.Serializer, S.Element) -> Void) {
        appendConstructedNode(identifier: .sequence) { coder in
            for element in elements { write(&coder, element) }
        }
    }

    /// An EXPLICIT context tag around `body` (a CHOICE alternative, PROTOCOL §2).
    mutating func appendExplicit(_ number: UInt, _ body: (inout DER.Serializer) -> Void) {
        appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific), body)
    }

    /// Bytes that already are one or more complete DER values (a structure kept as received).
    mutating func appendDER(_ bytes: some Sequence<UInt8>) {
        serializeRawBytes(bytes)
    }
}

extension ASN1Identifier {
    /// `[number]` in the context class, as used for IMPLICIT tagged OPTIONAL fields.
    static func context(_ number: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
    }
}

/// Minimal two's-complement INTEGER content octets.
enum DERInteger {
    static func content(_ value: Int64) -> [UInt8] {
        var bytes = BigEndian.uint64(UInt64(bitPattern: value))
        while bytes.count > 1,
            (bytes[0] == 0x00 && bytes[1] < 0x80) || (bytes[0] == 0xff && bytes[1] >= 0x80)
        {
            bytes.removeFirst()
        }
        return bytes
    }
}

/// A type that is one DER value of PROTOCOL.md.
public protocol DERMessage: Sendable {
    /// Writes the value's DER.
    func serialize(into coder: inout DER.Serializer)
    /// Strictly reads the value from one parsed node.
    init(node: ASN1Node) throws(WireError)
}

extension DERMessage {
    /// The value's DER bytes.
    public var derBytes: [UInt8] {
        var coder = DER.Serializer()
        serialize(into: &coder)
        return coder.serializedBytes
    }

    /// Strictly parses exactly one value from `bytes` (no trailing bytes).
    public init(derEncoded bytes: some Collection<UInt8>) throws(WireError) {
        try self.init(node: try DERReader.parse(bytes, "\(Self.self)"))
    }
}

extension DER.Serializer {
    /// Writes a message's DER.
    mutating func append(_ message: some DERMessage) {
        message.serialize(into: &self)
    }
}
