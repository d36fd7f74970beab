import CofferCrypto
import SwiftASN1

/// PROTOCOL §2's DER, written. Parsing is swift-asn1's (`DERReader`); writing is this small writer because
/// swift-asn1's serializer guesses a one-byte length and, when the content turns out longer than 127 bytes,
/// moves it one byte at a time, each store checking the array's uniqueness. Messages nest a few hundred
/// bytes several levels deep, and that move was a fifth of the CPU of an HSM session request. Here a
/// primitive's length is written before its content, and a constructed value's content is moved at most
/// once, with one `memmove`. Encoders write what they are given; it is the builders' and decoders' job to
/// keep values within PROTOCOL §2's limits.
public struct DERWriter: Sendable {
    /// The DER written so far.
    public private(set) var serializedBytes: [UInt8]
    private let zeroizesGrowth: Bool

    /// An empty writer. With `zeroizingGrowth` (a message that holds a secret: ``SessionCommand/secretDER``),
    /// the writer grows its buffer itself and zeroes the old one, which the array's own growth would free
    /// with the secret still in it.
    public init(zeroizingGrowth: Bool = false) {
        serializedBytes = []
        serializedBytes.reserveCapacity(1024)
        zeroizesGrowth = zeroizingGrowth
    }

    /// Before writing `extra` more bytes: when they do not fit and growth is zeroized, a larger buffer.
    private mutating func makeRoom(for extra: Int) {
        guard zeroizesGrowth, serializedBytes.count + extra > serializedBytes.capacity else { return }
        var larger: [UInt8] = []
        larger.reserveCapacity(max(2 * serializedBytes.capacity, serializedBytes.count + extra))
        larger.append(contentsOf: serializedBytes)
        serializedBytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
        serializedBytes = larger
    }

    /// A primitive value: identifier, definite length, `content`.
    package mutating func appendPrimitive(identifier: ASN1Identifier, _ content: some Collection<UInt8>) {
        // An identifier takes at most 11 bytes (a 64-bit tag number), a length at most 9.
        makeRoom(for: 20 + content.count)
        appendIdentifier(identifier, constructed: false)
        appendLength(content.count)
        serializedBytes.append(contentsOf: content)
    }

    /// A constructed value whose content `body` writes. Its length is known only afterwards: one length
    /// octet is reserved and, when the content needs the long form, the content moves right once (one
    /// insertion of the length's octets after it).
    package mutating func appendConstructed(identifier: ASN1Identifier, _ body: (inout DERWriter) -> Void) {
        makeRoom(for: 12)
        appendIdentifier(identifier, constructed: true)
        let lengthIndex = serializedBytes.endIndex
        serializedBytes.append(0)
        body(&self)
        let length = serializedBytes.endIndex - lengthIndex - 1
        guard length > 0x7F else {
            serializedBytes[lengthIndex] = UInt8(length)
            return
        }
        let octets = Self.lengthOctets(length)
        makeRoom(for: octets)
        serializedBytes[lengthIndex] = 0x80 | UInt8(octets)
        serializedBytes.insert(contentsOf: BigEndianOctets(Int64(length), count: octets), at: lengthIndex + 1)
    }

    /// X.690 §8.1.2: class, constructed bit and tag number, the number in base 128 when it is 31 or more.
    private mutating func appendIdentifier(_ identifier: ASN1Identifier, constructed: Bool) {
        let classBits: UInt8 =
            switch identifier.tagClass {
            case .universal: 0x00
            case .application: 0x40
            case .contextSpecific: 0x80
            case .private: 0xC0
            }
        let leading = classBits | (constructed ? 0x20 : 0x00)
        let number = identifier.tagNumber
        guard number >= 0x1F else {
            serializedBytes.append(leading | UInt8(number))
            return
        }
        serializedBytes.append(leading | 0x1F)
        var groups = 1
        while number >> (7 * UInt(groups)) != 0 { groups += 1 }
        for group in (0..<groups).reversed() {
            let bits = UInt8(truncatingIfNeeded: number >> (7 * UInt(group))) & 0x7F
            serializedBytes.append(group == 0 ? bits : bits | 0x80)
        }
    }

    /// X.690 §8.1.3 and §10.1: the short form below 128, otherwise `0x80 | n` and the fewest (`n`)
    /// big-endian octets.
    private mutating func appendLength(_ length: Int) {
        guard length > 0x7F else {
            serializedBytes.append(UInt8(length))
            return
        }
        let octets = Self.lengthOctets(length)
        serializedBytes.append(0x80 | UInt8(octets))
        serializedBytes.append(contentsOf: BigEndianOctets(Int64(length), count: octets))
    }

    /// How many octets the long form of `length` takes after its first.
    private static func lengthOctets(_ length: Int) -> Int {
        (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
    }
}

extension DERWriter {
    mutating func appendInteger(_ value: Int64, identifier: ASN1Identifier = .integer) {
        appendPrimitive(identifier: identifier, BigEndianOctets(value, count: DERInteger.octetCount(value)))
    }

    mutating func appendInteger(_ value: Int, identifier: ASN1Identifier = .integer) {
        appendInteger(Int64(value), identifier: identifier)
    }

    mutating func appendEnumerated(_ value: Int64) {
        appendInteger(value, identifier: .enumerated)
    }

    mutating func appendBoolean(_ value: Bool) {
        appendPrimitive(identifier: .boolean, CollectionOfOne(value ? 0xff : 0x00))
    }

    mutating func appendNull() {
        appendPrimitive(identifier: .null, EmptyCollection())
    }

    mutating func appendOctets(_ bytes: some Collection<UInt8>, identifier: ASN1Identifier = .octetString) {
        appendPrimitive(identifier: identifier, bytes)
    }

    mutating func appendUTF8(_ text: String) {
        appendPrimitive(identifier: .utf8String, text.utf8)
    }

    mutating func appendTime(_ time: WireTime, identifier: ASN1Identifier = .generalizedTime) {
        appendPrimitive(identifier: identifier, time.generalizedTimeBytes)
    }

    mutating func appendSequence(_ body: (inout DERWriter) -> Void) {
        appendConstructed(identifier: .sequence, body)
    }

    /// A `SEQUENCE OF` whose elements each write themselves.
    mutating func appendSequence<S: Sequence>(of elements: S, _ write: (inout DERWriter, S.Element) -> Void) {
        appendConstructed(identifier: .sequence) { coder in
            for element in elements { write(&coder, element) }
        }
    }

    /// An EXPLICIT context tag around `body` (a CHOICE alternative, PROTOCOL §2).
    mutating func appendExplicit(_ number: UInt, _ body: (inout DERWriter) -> Void) {
        appendConstructed(identifier: ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific), body)
    }

    /// Bytes that already are one or more complete DER values (a structure kept as received).
    mutating func appendDER(_ bytes: some Collection<UInt8>) {
        makeRoom(for: bytes.count)
        serializedBytes.append(contentsOf: bytes)
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
    /// How many octets `value` takes: its eight, less each leading octet that only repeats the sign of the
    /// next (X.690 §8.3.2); ``BigEndianOctets`` are those octets.
    static func octetCount(_ value: Int64) -> Int {
        var count = 8
        while count > 1 {
            let first = UInt8(truncatingIfNeeded: value >> (8 * (count - 1)))
            let next = UInt8(truncatingIfNeeded: value >> (8 * (count - 2)))
            guard (first == 0x00 && next < 0x80) || (first == 0xff && next >= 0x80) else { break }
            count -= 1
        }
        return count
    }
}

/// A type that is one DER value of PROTOCOL.md.
public protocol DERMessage: Sendable {
    /// Writes the value's DER.
    func serialize(into coder: inout DERWriter)
    /// Strictly reads the value from one parsed node.
    init(node: ASN1Node) throws(WireError)
}

extension DERMessage {
    /// The value's DER bytes.
    public var derBytes: [UInt8] {
        var coder = DERWriter()
        serialize(into: &coder)
        return coder.serializedBytes
    }

    /// Strictly parses exactly one value from `bytes` (no trailing bytes).
    public init(derEncoded bytes: some Collection<UInt8>) throws(WireError) {
        try self.init(node: try DERReader.parse(bytes, "\(Self.self)"))
    }
}

extension DERWriter {
    /// Writes a message's DER.
    mutating func append(_ message: some DERMessage) {
        message.serialize(into: &self)
    }
}
