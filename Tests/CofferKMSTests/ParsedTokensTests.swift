import CofferWire
import Testing

@testable import CofferKMS

/// The parsed-token cache: the same bytes give the same token from one parse, bytes that do not parse give
/// nothing and are not kept, and past its limit the cache starts afresh.
@Suite struct ParsedTokensTests {
    static func token(_ n: UInt8) -> ExportedKeyToken {
        ExportedKeyToken(
            header: ExportedKeyToken.Header(
                domainID: [UInt8](repeating: 1, count: 16), domainKeyID: [UInt8](repeating: 2, count: 8),
                kind: .backingKey, subject: [UInt8](repeating: n, count: 32), spec: "SYMMETRIC_DEFAULT",
                notBefore: WireTime(secondsSinceEpoch: 1_800_000_000), notAfter: nil),
            sealed: [UInt8](repeating: n, count: 60))
    }

    @Test func theSameBytesAreParsedOnce() {
        let cache = ParsedTokens()
        let bytes = Self.token(1).derBytes
        #expect(cache.token(bytes) == Self.token(1))
        #expect(cache.token(bytes) == Self.token(1))
        #expect(cache.count == 1)
        #expect(cache.token(Self.token(2).derBytes) == Self.token(2))
        #expect(cache.count == 2)
    }

    @Test func bytesThatDoNotParseAreNotKept() {
        let cache = ParsedTokens()
        var bytes = Self.token(1).derBytes
        #expect(cache.token(Array(bytes.dropLast())) == nil)
        bytes.append(0)
        #expect(cache.token(bytes) == nil)
        #expect(cache.token([]) == nil)
        #expect(cache.count == 0)
    }

    @Test func startsAfreshPastItsLimit() {
        let cache = ParsedTokens()
        let bytes = Self.token(1).derBytes
        for n in 0..<ParsedTokens.limit {
            // Distinct bytes that parse: the sealed part's last two bytes carry n.
            var token = bytes
            token[token.count - 1] = UInt8(truncatingIfNeeded: n)
            token[token.count - 2] = UInt8(truncatingIfNeeded: n >> 8)
            #expect(cache.token(token) != nil)
        }
        #expect(cache.count == ParsedTokens.limit)
        #expect(cache.token(Self.token(3).derBytes) != nil)
        #expect(cache.count == 1)
    }
}
