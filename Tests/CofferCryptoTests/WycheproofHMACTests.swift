import CofferCrypto
import CofferTestSupport
import Crypto
import Foundation
import Testing

/// HMAC-SHA256 (the PRF under `DeriveDEK`, PROTOCOL §1) and HMAC-SHA384 against Wycheproof, with the
/// constant-time comparison Coffer uses for MACs.
@Suite struct WycheproofHMACTests {
    @Test func hmacSHA256MatchesWycheproof() throws {
        let count = try run("hmac_sha256_test") { key, message in
            Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        }
        print("hmac_sha256_test: \(count)")
        #expect(count.ran == 174)
    }

    @Test func hmacSHA384MatchesWycheproof() throws {
        let count = try run("hmac_sha384_test") { key, message in
            Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        }
        print("hmac_sha384_test: \(count)")
        #expect(count.ran == 174)
    }

    private func run(_ file: String, mac: (SymmetricKey, [UInt8]) -> [UInt8]) throws -> CaseCount {
        let json = try VectorFile.load(file, from: .module)
        var count = CaseCount()
        for group in try json.objects("testGroups") {
            let tagBytes = try group.int("tagSize") / 8
            for test in try group.objects("tests") {
                let result = try test.string("result")
                let id = try test.int("tcId")
                count.ran(result)
                let computed = mac(SymmetricKey(data: try test.hex("key")), try test.hex("msg")).prefix(tagBytes)
                let matches = ConstantTime.equals(computed, try test.hex("tag"))
                #expect(matches == (result == "valid"), "\(file) tcId \(id) (\(result))")
            }
        }
        return count
    }
}
