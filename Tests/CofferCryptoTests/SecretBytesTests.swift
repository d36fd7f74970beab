import CofferCrypto
import Foundation
import Testing

@Suite struct SecretBytesTests {
    @Test func printingNeverShowsTheBytes() {
        let secret = SecretBytes(copying: Array("hunter2-hunter2".utf8))
        #expect(String(describing: secret) == "<redacted>")
        #expect(!String(reflecting: secret).contains("hunter2"))
        #expect("\(secret)" == "<redacted>")
    }

    @Test func equalityComparesContents() {
        #expect(SecretBytes(copying: [1, 2, 3]) == SecretBytes(copying: [1, 2, 3]))
        #expect(SecretBytes(copying: [1, 2, 3]) != SecretBytes(copying: [1, 2, 4]))
        #expect(SecretBytes(copying: [1, 2, 3]) != SecretBytes(copying: [1, 2]))
        #expect(SecretBytes(copying: []) == SecretBytes(copying: []))
    }

    /// Every kind of source gives the same bytes: contiguous ones (array, slice, buffer, Data, a Data
    /// slice) are copied at once, the others byte by byte.
    @Test func copyingFromAnySourceKeepsTheBytes() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let expected = SecretBytes(copying: bytes)
        #expect(SecretBytes(copying: bytes[...]) == expected)
        #expect(bytes.withUnsafeBytes { SecretBytes(copying: $0) } == expected)
        #expect(SecretBytes(copying: Data(bytes)) == expected)
        #expect(SecretBytes(copying: Data([0] + bytes).dropFirst()) == expected)
        #expect(SecretBytes(copying: bytes.lazy.map { $0 }) == expected)
        #expect(SecretBytes(copying: AnyCollection(bytes)) == expected)
        #expect(SecretBytes(copying: Data()).count == 0)
        var secret = expected
        secret.withUnsafeBytes { #expect(Array($0) == bytes) }
        secret = SecretBytes(copying: bytes.prefix(1))
        secret.withUnsafeBytes { #expect(Array($0) == [0]) }
    }

    @Test func consumingWipesTheSourceArray() {
        var source: [UInt8] = [9, 9, 9, 9]
        let secret = SecretBytes(consuming: &source)
        #expect(source.isEmpty)
        #expect(secret == SecretBytes(copying: [9, 9, 9, 9]))
    }

    @Test func randomSecretsDiffer() {
        #expect(SecretBytes.random(count: 32) != SecretBytes.random(count: 32))
        #expect(SecretBytes.random(count: 32).count == 32)
    }

    @Test func zeroizeClearsABuffer() {
        var bytes: [UInt8] = [1, 2, 3, 4]
        bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
        #expect(bytes == [0, 0, 0, 0])
    }

    @Test func constantTimeEqualityAgreesWithOrdinaryEquality() {
        for _ in 0..<200 {
            let a = (0..<Int.random(in: 0...4)).map { _ in UInt8.random(in: 0...2) }
            let b = (0..<Int.random(in: 0...4)).map { _ in UInt8.random(in: 0...2) }
            #expect(ConstantTime.equals(a, b) == (a == b))
        }
    }

    /// Arrays, slices and strings' UTF-8 are compared in place, other collections through a copy: the same
    /// answers either way, and for a mix of the two, for every pair of strings of up to three bytes over
    /// two values.
    @Test func constantTimeEqualityIsTheSameInPlaceAndCopied() {
        var strings: [[UInt8]] = [[]]
        for length in 1...3 {
            strings += strings.filter { $0.count == length - 1 }.flatMap { [$0 + [48], $0 + [49]] }
        }
        #expect(strings.count == 15)
        for a in strings {
            for b in strings {
                let expected = a == b
                let text = String(decoding: b, as: UTF8.self)
                #expect(ConstantTime.equals(a, b) == expected)
                #expect(ConstantTime.equals(a[...], text.utf8) == expected)
                #expect(ConstantTime.equals(a.lazy.map { $0 }, b) == expected)
                #expect(ConstantTime.equals(a, b.lazy.map { $0 }) == expected)
                #expect(ConstantTime.equals(a.lazy.map { $0 }, text.utf8) == expected)
            }
        }
    }
}
