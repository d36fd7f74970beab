import Testing

@testable import CofferCrypto

@Suite struct SystemEntropyTests {
    /// Small and large draws (getrandom returns at most 32 MiB - 1 per call, and may return fewer bytes
    /// than asked when a signal arrives; the shim loops).
    static let sizes = [1, 12, 16, 4095, 4096, 4097, 100_000]

    @Test(arguments: sizes) func fillsEveryByteAndNeverRepeats(count: Int) {
        let first = SystemEntropy.bytes(count: count)
        let second = SystemEntropy.bytes(count: count)
        #expect(first.count == count && second.count == count)
        if count >= 12 {
            let differ = first != second
            let nonzero = first.contains { $0 != 0 }
            #expect(differ, "two draws of \(count) bytes were equal")
            #expect(nonzero, "a draw of \(count) bytes was all zeros")
        }
    }

    @Test func smallDrawsAreDistinctAndLookUniform() {
        var seen = Set<[UInt8]>()
        var histogram = [Int](repeating: 0, count: 256)
        var ones = 0
        for _ in 0..<10_000 {
            let draw = SystemEntropy.bytes(count: 13)
            seen.insert(draw)
            for byte in draw {
                histogram[Int(byte)] += 1
                ones += byte.nonzeroBitCount
            }
        }
        #expect(seen.count == 10_000)
        // 130,000 bytes: each value about 508 times; zeroed or repeated bytes would skew both counts far past
        // these bounds.
        #expect(histogram.allSatisfy { (350...670).contains($0) })
        let fraction = Double(ones) / Double(130_000 * 8)
        #expect((0.49...0.51).contains(fraction))
    }

    @Test func concurrentDrawsNeverShareBytes() async {
        let draws = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in SystemEntropy.bytes(count: 16) } }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(draws).count == 4_000)
    }

    @Test func secretBytesAreDrawnInPlace() {
        let a = SecretBytes.random(count: 32)
        let b = SecretBytes.random(count: 32)
        #expect(a.count == 32)
        #expect(a != b)
    }
}
