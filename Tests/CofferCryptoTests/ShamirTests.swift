import CofferCrypto
import CofferTestSupport
import Foundation
import Testing

/// Shamir over GF(2^8) (PROTOCOL §8) against `coffer/kdf.json`'s `shamir` section.
@Suite struct ShamirTests {
    @Test func gf256ArithmeticMatchesTheExamples() throws {
        let section = try VectorFile.load("kdf", from: .module).object("shamir")
        var ran = 0
        for example in try section.objects("gf256MulExamples") {
            #expect(GF256.multiply(try example.hex("a")[0], try example.hex("b")[0]) == (try example.hex("product")[0]))
            ran += 1
        }
        for example in try section.objects("gf256InverseExamples") {
            #expect(GF256.inverse(try example.hex("a")[0]) == (try example.hex("inverse")[0]))
            ran += 1
        }
        for a in UInt8(1)...255 { #expect(GF256.multiply(a, GF256.inverse(a)) == 1) }
        print("gf256 examples: ran \(ran) cases plus all 255 inverses")
        #expect(ran >= 4)
    }

    @Test func splitAndCombineMatchTheVectors() throws {
        let section = try VectorFile.load("kdf", from: .module).object("shamir")
        var ran = 0
        var subsets = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let secret = SecretBytes(copying: try test.hex("secret"))
            var coefficients = try (test["coefficients"] as? [String] ?? []).map { text in
                guard let bytes = Hex.decode(text) else { throw VectorError("coefficient") }
                return bytes
            }
            coefficients.reverse()
            let shares = try Shamir.split(
                secret, threshold: try test.int("threshold"), count: try test.int("shareCount")
            ) {
                #expect($0 == 32)
                return SecretBytes(copying: coefficients.popLast() ?? [])
            }
            let expected = try test.objects("shares")
            #expect(shares.count == expected.count)
            for (share, want) in zip(shares, expected) {
                #expect(Int(share.x) == (try want.int("x")), "tcId \(id)")
                #expect(share.y == SecretBytes(copying: try want.hex("y")), "tcId \(id) share \(share.x)")
            }
            for subset in test["combineSubsets"] as? [[Int]] ?? [] {
                let chosen = subset.map { x in shares[x - 1] }
                #expect(try Shamir.combine(chosen) == secret, "tcId \(id) subset \(subset)")
                #expect(try Shamir.combine(chosen.reversed()) == secret, "tcId \(id) subset \(subset) reversed")
                subsets += 1
            }
            let tooFew = Array(shares.prefix(try test.int("threshold") - 1))
            let partial = try Shamir.combine(tooFew)
            #expect(partial == SecretBytes(copying: try test.hex("interpolateFirstMMinus1")))
            #expect(partial != secret, "tcId \(id): M − 1 shares must not give the secret")
            ran += 1
        }
        print("shamir: ran \(ran) cases, \(subsets) combine subsets")
        #expect(ran == 8)
    }

    @Test func combineRefusesInvalidShareSets() throws {
        let section = try VectorFile.load("kdf", from: .module).object("shamir")
        var ran = 0
        for test in try section.objects("invalidCombine") {
            let shares = try test.objects("shares").map { share in
                Shamir.Share(x: UInt8(try share.int("x")), y: SecretBytes(copying: try share.hex("y")))
            }
            let comment = try test.string("comment")
            #expect(throws: CofferCryptoError(.invalidShares), "\(comment)") {
                try Shamir.combine(shares)
            }
            ran += 1
        }
        #expect(throws: CofferCryptoError(.invalidShares)) { try Shamir.combine([]) }
        print("shamir invalidCombine: ran \(ran) cases")
        #expect(ran == 3)
    }

    @Test func splitRefusesImpossibleThresholds() {
        let secret = SecretBytes.random(count: 32)
        #expect(throws: CofferCryptoError(.invalidShares)) { try Shamir.split(secret, threshold: 1, count: 3) }
        #expect(throws: CofferCryptoError(.invalidShares)) { try Shamir.split(secret, threshold: 4, count: 3) }
        #expect(throws: CofferCryptoError(.invalidShares)) { try Shamir.split(secret, threshold: 2, count: 256) }
    }

    @Test func anyThresholdSubsetOfRandomSharesRecoversTheSecret() throws {
        for _ in 0..<20 {
            let secret = SecretBytes.random(count: 32)
            let shares = try Shamir.split(secret, threshold: 3, count: 5)
            for a in 0..<5 {
                for b in (a + 1)..<5 {
                    for c in (b + 1)..<5 {
                        #expect(try Shamir.combine([shares[c], shares[a], shares[b]]) == secret)
                    }
                }
            }
        }
    }
}
