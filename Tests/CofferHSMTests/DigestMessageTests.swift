import CofferCrypto
import CofferWire
import Crypto
import CryptoExtras
import Foundation
import Testing

@testable import CofferHSM

/// A DIGEST message becomes swift-crypto's own digest type byte for byte (the layout check that
/// `DigestMessage.make` relies on holds for every hash this swift-crypto has), RAW messages are hashed,
/// and a DIGEST of the wrong length is refused.
@Suite struct DigestMessageTests {
    static func roundTrip<H: HashFunction>(_: H.Type) throws {
        let bytes = (0..<H.Digest.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        let digest = try DigestMessage.digest(H.self, SecretBytes(copying: bytes), .digest)
        #expect(Array(digest) == bytes)
        let hashed = try DigestMessage.digest(H.self, SecretBytes(copying: Array("abc".utf8)), .raw)
        #expect(hashed == H.hash(data: Array("abc".utf8)))
        for wrong in [bytes.dropLast(), bytes + [0]] {
            #expect(throws: Failure.self) {
                try DigestMessage.digest(H.self, SecretBytes(copying: Array(wrong)), .digest)
            }
        }
    }

    @Test func everyHashRoundTrips() throws {
        try Self.roundTrip(SHA256.self)
        try Self.roundTrip(SHA384.self)
        try Self.roundTrip(SHA512.self)
    }

    /// A type whose layout is not its bytes is refused, never used.
    @Test func aDigestTypeOfAnotherLayoutIsRefused() {
        let bytes = [UInt8](repeating: 1, count: SHA224Digest.byteCount)
        #expect(throws: Failure.self) {
            try bytes.withUnsafeBytes { try DigestMessage.make(SHA224Digest.self, from: $0) }
        }
    }

    /// PKCS #1 v1.5 is deterministic: the signature of a DIGEST equals the signature of its RAW message.
    @Test func aDigestSignsAsItsMessage() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let message = Array("a message".utf8)
        let raw = try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        let digest = try DigestMessage.digest(
            SHA256.self, SecretBytes(copying: Array(SHA256.hash(data: message))), .digest)
        #expect(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation == raw.rawRepresentation)
    }
}
