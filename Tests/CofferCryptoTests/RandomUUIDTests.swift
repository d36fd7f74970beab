import Foundation
import Testing

@testable import CofferCrypto

@Suite struct RandomUUIDTests {
    @Test func formatsTheBytesWithVersionFourAndTheRFCVariant() {
        #expect(
            RandomUUID.format(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
                == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(RandomUUID.format(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(RandomUUID.format(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }

    @Test func formatIsFoundationsTextOfTheSameBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let high: UInt64 = generator.next()
            let low: UInt64 = generator.next()
            let versioned = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000
            let varied = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
            let bytes =
                withUnsafeBytes(of: versioned.bigEndian, Array.init) + withUnsafeBytes(of: varied.bigEndian, Array.init)
            #expect(RandomUUID.format(high: high, low: low) == NSUUID(uuidBytes: bytes).uuidString.lowercased())
        }
    }

    @Test func isWhatFoundationReadsAsTheSameUUID() throws {
        for _ in 0..<1_000 {
            let text = RandomUUID.lowercased()
            let parsed = try #require(UUID(uuidString: text))
            #expect(parsed.uuidString.lowercased() == text)
            let bytes = parsed.uuid
            #expect(bytes.6 >> 4 == 4)
            #expect(bytes.8 >> 6 == 0b10)
        }
    }

    @Test func doesNotRepeat() {
        let many = (0..<10_000).map { _ in RandomUUID.lowercased() }
        #expect(Set(many).count == many.count)
    }
}
