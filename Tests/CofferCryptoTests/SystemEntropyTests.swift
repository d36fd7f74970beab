import Testing

@testable import CofferCrypto

@Suite struct SystemEntropyTests {
    /// Sizes around the block: inside one block, across a refill, a whole block and more (straight from the
    /// kernel).
    static let sizes = [1, 12, 16, 4095, 4096, 4097, 10_000]

    @Test func isPooledOnLinux() {
        #if os(Linux)
        // MADV_WIPEONFORK has been in Linux since 4.14; without it every draw is a kernel call.
        #expect(SystemEntropy.isPooled)
        #endif
    }

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

    @Test func drawsAcrossRefillsAreDistinctAndLookUniform() {
        // 13-byte draws: 315 to a block, so many draws straddle a refill.
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
        // 130,000 bytes: each value about 508 times; a pool that handed out zeroed or repeated bytes would
        // skew both counts far past these bounds.
        #expect(histogram.allSatisfy { (350...670).contains($0) })
        let fraction = Double(ones) / Double(130_000 * 8)
        #expect((0.49...0.51).contains(fraction))
    }

    @Test func spentBytesAreZeroInThePool() throws {
        _ = SystemEntropy.bytes(count: 100)
        let checked = try #require(
            SystemEntropy.withPool { block, remaining in
                let spent = block.count - remaining
                return block[..<spent].allSatisfy { $0 == 0 }
                    && (remaining < 16 || block[spent...].contains { $0 != 0 })
            })
        #expect(checked)
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
