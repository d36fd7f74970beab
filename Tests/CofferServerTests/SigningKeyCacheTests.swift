import CofferCrypto
import Crypto
import Testing

@testable import CofferServer

@Suite struct SigningKeyCacheTests {
    static func place(_ id: String, region: String = "us-east-1", fromDayKey: Bool = false) -> SigningKeyCache.Place {
        .init(accessKeyID: id, day: "20261204", region: region, service: "kms", fromDayKey: fromDayKey)
    }

    static func secret(_ text: String) -> SecretBytes { SecretBytes(copying: Array(text.utf8)) }

    @Test func aKeyIsFoundOnlyForItsPlaceAndTheSameSource() {
        let cache = SigningKeyCache()
        let key = SymmetricKey(data: Array("derived".utf8))
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("one")) == nil)
        cache.keep(SigningKeyCache.Signer(key: key), derivedFrom: Self.secret("one"), for: Self.place("A"))
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("one"))?.key == key)
        // Another secret under the same scope: not found (the caller's secret changed).
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("two")) == nil)
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("one!")) == nil)
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("")) == nil)
        // Another region, access key, or kind of source: not found.
        #expect(cache.signer(for: Self.place("A", region: "eu-west-1"), source: Self.secret("one")) == nil)
        #expect(cache.signer(for: Self.place("B"), source: Self.secret("one")) == nil)
        #expect(cache.signer(for: Self.place("A", fromDayKey: true), source: Self.secret("one")) == nil)
        // Keeping the new secret's key replaces the old one.
        let newer = SymmetricKey(data: Array("newer".utf8))
        cache.keep(SigningKeyCache.Signer(key: newer), derivedFrom: Self.secret("two"), for: Self.place("A"))
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("two"))?.key == newer)
        #expect(cache.signer(for: Self.place("A"), source: Self.secret("one")) == nil)
        #expect(cache.count == 1)
    }

    @Test func startsAfreshPastItsLimit() {
        let cache = SigningKeyCache()
        let key = SymmetricKey(data: Array("k".utf8))
        for n in 0..<SigningKeyCache.limit {
            cache.keep(SigningKeyCache.Signer(key: key), derivedFrom: Self.secret("s"), for: Self.place("K\(n)"))
        }
        #expect(cache.count == SigningKeyCache.limit)
        // Replacing a kept place does not count as a new one.
        cache.keep(SigningKeyCache.Signer(key: key), derivedFrom: Self.secret("t"), for: Self.place("K0"))
        #expect(cache.count == SigningKeyCache.limit)
        cache.keep(SigningKeyCache.Signer(key: key), derivedFrom: Self.secret("s"), for: Self.place("one more"))
        #expect(cache.count == 1)
    }

    /// A kept signer signs as SigV4 does from the key, every time: signing copies the keyed state and never
    /// changes it (swift-crypto's hash state is copied on write).
    @Test func aSignerSignsAsTheKeyDoesEveryTime() {
        let key = SigV4.signingKey(
            secret: Self.secret("wJalrXUtnFEMI"), day: "20261204", region: "us-east-1", service: "kms")
        let signer = SigningKeyCache.Signer(key: key)
        let copy = signer
        for text in ["", "a", String(repeating: "AWS4-HMAC-SHA256\n", count: 40), "a"] {
            let bytes = Array(text.utf8)
            let expected = SigV4.signature(stringToSign: text, key: key)
            #expect(signer.signature(bytes) == expected)
            #expect(signer.signature(bytes) == expected)
            #expect(copy.signature(bytes) == expected)
        }
    }

    /// Only verified requests keep a key: a wrong signature, or a made-up region signed with the wrong
    /// secret (anyone who knows an access key id can send those), adds nothing.
    @Test func onlyAVerifiedRequestKeepsItsKey() async throws {
        let verifier = SigV4Verifier(service: "kms") { (_: String, _: String) async throws(SigV4Error) in
            .init(key: .secret(SecretBytes(copying: Array(SigV4VerifierTests.secret.utf8))), account: "111122223333")
        }
        let now = SigV4VerifierTests.now
        for n in 0..<20 {
            let forged = SigV4VerifierTests.signed(secret: "not-the-secret", region: "made-up-\(n)")
            await #expect(throws: SigV4Error.self) { _ = try await verifier.authenticate(forged, now: now) }
        }
        #expect(verifier.signingKeys.count == 0)
        _ = try await verifier.authenticate(SigV4VerifierTests.signed(), now: now)
        #expect(verifier.signingKeys.count == 1)
        _ = try await verifier.authenticate(SigV4VerifierTests.signed(body: "{}"), now: now)
        #expect(verifier.signingKeys.count == 1)
    }
}
