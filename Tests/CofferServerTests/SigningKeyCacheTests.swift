import CofferCrypto
import Crypto
import Testing

@testable import CofferServer

@Suite struct SigningKeyCacheTests {
    static func key(_ cache: SigningKeyCache, _ id: String, source: String, derived: inout Int) -> SymmetricKey {
        cache.key(
            accessKeyID: id, day: "20261204", region: "us-east-1", service: "kms",
            source: SecretBytes(copying: Array(source.utf8))
        ) {
            derived += 1
            return SymmetricKey(data: Array(source.utf8))
        }
    }

    @Test func keepsAKeyPerScopeAndSourceAndStartsAfreshAtItsLimit() {
        let cache = SigningKeyCache()
        var derived = 0
        _ = Self.key(cache, "A", source: "one", derived: &derived)
        _ = Self.key(cache, "A", source: "one", derived: &derived)
        #expect(derived == 1)
        // Another source under the same scope is derived again, and replaces the kept key.
        let replaced = Self.key(cache, "A", source: "two", derived: &derived)
        #expect(derived == 2)
        #expect(replaced == SymmetricKey(data: Array("two".utf8)))
        for n in 0..<(SigningKeyCache.limit - 1) { _ = Self.key(cache, "K\(n)", source: "s", derived: &derived) }
        #expect(cache.count == SigningKeyCache.limit)
        _ = Self.key(cache, "one more", source: "s", derived: &derived)
        #expect(cache.count == 1)
    }
}
