import SwiftASN1
import Testing

@testable import CofferWire

/// `DERWriter` against swift-asn1's serializer, an independent encoder: the same bytes for every length form
/// (short, and long with one to three octets, at each boundary), nested constructed values whose content moves
/// when its length needs the long form, and identifiers of every class with tag numbers written in base 128.
@Suite struct DERWriterTests {
    static let lengths = [0, 1, 127, 128, 129, 255, 256, 257, 65_535, 65_536, 65_537]

    static let identifiers = [
        ASN1Identifier.octetString, .sequence, ASN1Identifier(tagWithNumber: 30, tagClass: .contextSpecific),
        ASN1Identifier(tagWithNumber: 31, tagClass: .contextSpecific),
        ASN1Identifier(tagWithNumber: 127, tagClass: .application),
        ASN1Identifier(tagWithNumber: 128, tagClass: .private),
        ASN1Identifier(tagWithNumber: 16_383, tagClass: .universal),
        ASN1Identifier(tagWithNumber: 16_384, tagClass: .contextSpecific),
        ASN1Identifier(tagWithNumber: UInt(UInt32.max), tagClass: .application),
    ]

    static func content(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) } }

    @Test(arguments: lengths)
    func aPrimitiveIsWrittenAsSwiftASN1WritesIt(length: Int) {
        for identifier in Self.identifiers {
            var ours = DERWriter()
            ours.appendPrimitive(identifier: identifier, Self.content(length))
            var theirs = DER.Serializer()
            theirs.appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: Self.content(length)) }
            #expect(ours.serializedBytes == theirs.serializedBytes, "\(identifier), \(length) bytes")
        }
    }

    @Test(arguments: lengths, [false, true])
    func nestedConstructedValuesAreWrittenAsSwiftASN1WritesThem(length: Int, zeroizingGrowth: Bool) {
        var ours = DERWriter(zeroizingGrowth: zeroizingGrowth)
        var theirs = DER.Serializer()
        for identifier in Self.identifiers {
            // Three levels, each with a byte before and after the inner value, so every level's content is
            // a few bytes longer than the one inside it and crosses each length boundary at its own point.
            ours.appendConstructed(identifier: identifier) { level1 in
                level1.appendPrimitive(identifier: .integer, [1])
                level1.appendConstructed(identifier: .sequence) { level2 in
                    level2.appendConstructed(identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) {
                        $0.appendPrimitive(identifier: .octetString, Self.content(length))
                    }
                    level2.appendPrimitive(identifier: .boolean, [0xff])
                }
            }
            theirs.appendConstructedNode(identifier: identifier) { level1 in
                level1.appendPrimitiveNode(identifier: .integer) { $0.append(1) }
                level1.appendConstructedNode(identifier: .sequence) { level2 in
                    level2.appendConstructedNode(
                        identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)
                    ) { level3 in
                        level3.appendPrimitiveNode(identifier: .octetString) {
                            $0.append(contentsOf: Self.content(length))
                        }
                    }
                    level2.appendPrimitiveNode(identifier: .boolean) { $0.append(0xff) }
                }
            }
        }
        #expect(ours.serializedBytes == theirs.serializedBytes, "\(length) bytes")
    }

    @Test func anEmptyConstructedValueHasLengthZero() {
        var writer = DERWriter()
        writer.appendConstructed(identifier: .sequence) { _ in }
        #expect(writer.serializedBytes == [0x30, 0x00])
    }
}

/// INTEGER content against swift-asn1's serializer, at every octet-count boundary of both signs.
@Suite struct DERIntegerWriterTests {
    static let values: [Int64] = [
        0, 1, 127, 128, 255, 256, 32_767, 32_768, 65_535, 65_536, 8_388_607, 8_388_608, 2_147_483_647,
        2_147_483_648, Int64(UInt32.max), 1 << 40, 1 << 48, (1 << 55) - 1, 1 << 55, Int64.max,
        -1, -127, -128, -129, -255, -256, -257, -32_768, -32_769, -8_388_608, -8_388_609, -2_147_483_648,
        -2_147_483_649, -(1 << 55), -(1 << 55) - 1, Int64.min + 1, Int64.min,
    ]

    @Test(arguments: values)
    func anIntegerIsWrittenAsSwiftASN1WritesIt(value: Int64) throws {
        var ours = DERWriter()
        ours.appendInteger(value)
        var theirs = DER.Serializer()
        try theirs.serialize(value)
        #expect(ours.serializedBytes == theirs.serializedBytes, "\(value)")
    }
}
