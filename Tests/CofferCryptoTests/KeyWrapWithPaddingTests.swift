import CofferCrypto
import Crypto
import Testing

/// RFC 5649 (AES Key Wrap with Padding): its two examples (§6), round trips at every length around the
/// block boundaries, and the refusal of every single-bit change and of wrong lengths.
@Suite struct KeyWrapWithPaddingTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static let kek = SymmetricKey(data: hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"))

    @Test func rfc5649Examples() throws {
        let twenty = SecretBytes(copying: Self.hex("c37b7e6492584340bed12207808941155068f738"))
        let wrapped = try KeyWrapWithPadding.wrap(twenty, kek: Self.kek)
        #expect(wrapped == Self.hex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"))
        #expect(try KeyWrapWithPadding.unwrap(wrapped, kek: Self.kek) == twenty)
        let seven = SecretBytes(copying: Self.hex("466f7250617369"))
        let short = try KeyWrapWithPadding.wrap(seven, kek: Self.kek)
        #expect(short == Self.hex("afbeb0f07dfbf5419200f2ccb50bb24f"))
        #expect(try KeyWrapWithPadding.unwrap(short, kek: Self.kek) == seven)
    }

    @Test func everyLengthRoundTripsAndEveryFlipIsRefused() throws {
        let kek = SymmetricKey(size: .bits256)
        for length in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 1217] {
            let plaintext = SecretBytes.random(count: length)
            let wrapped = try KeyWrapWithPadding.wrap(plaintext, kek: kek)
            #expect(wrapped.count == 8 + (length + 7) / 8 * 8)
            #expect(try KeyWrapWithPadding.unwrap(wrapped, kek: kek) == plaintext)
            for index in Set([0, 4, 7, 8, wrapped.count / 2, wrapped.count - 1]) {
                var flipped = wrapped
                flipped[index] ^= 0x01
                #expect(throws: CofferCryptoError.self) { try KeyWrapWithPadding.unwrap(flipped, kek: kek) }
            }
            #expect(throws: CofferCryptoError.self) {
                try KeyWrapWithPadding.unwrap(wrapped, kek: SymmetricKey(size: .bits256))
            }
        }
        for bad in [[], [UInt8](repeating: 0, count: 8), [UInt8](repeating: 0, count: 17)] {
            #expect(throws: CofferCryptoError.self) { try KeyWrapWithPadding.unwrap(bad, kek: kek) }
        }
    }
}
