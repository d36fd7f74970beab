import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto
import SwiftASN1
import Testing

/// The recovery messages' limits (docs/protocol.md, "Recovery"; `WireLimits`), each at the bound and one past it.
@Suite struct RecoveryWireTests {
    let key = P384PublicKey(P384.KeyAgreement.PrivateKey().publicKey)

    /// The DER of a ShareHeader with the given numbers (written by hand so out-of-range values can be encoded).
    func header(threshold: Int64, count: Int64, x: Int64, version: Int64 = 1) -> [UInt8] {
        var coder = DER.Serializer()
        try? coder.appendConstructedNode(identifier: .sequence) { c in
            try c.serialize(version)
            try c.serialize(ASN1UTF8String(String(repeating: "a", count: 32)))
            try c.serialize(ASN1OctetString(contentBytes: ArraySlice(key.spki)))
            try c.serialize(threshold)
            try c.serialize(count)
            try c.serialize(x)
            try c.serialize(ASN1OctetString(contentBytes: ArraySlice(key.spki)))
        }
        return coder.serializedBytes
    }

    @Test func shareHeaderNumbersAtAndPastTheirBounds() throws {
        #expect(try ShareHeader(derEncoded: header(threshold: 2, count: 2, x: 1)).threshold == 2)
        #expect(try ShareHeader(derEncoded: header(threshold: 255, count: 255, x: 255)).x == 255)
        for (threshold, count, x) in [
            (1, 3, 1), (256, 256, 1), (2, 256, 1), (2, 3, 0), (2, 3, 256), (3, 2, 1), (2, 3, 4),
        ] {
            #expect(throws: WireError.self, "threshold \(threshold), count \(count), x \(x)") {
                try ShareHeader(derEncoded: header(threshold: Int64(threshold), count: Int64(count), x: Int64(x)))
            }
        }
        do {
            _ = try ShareHeader(derEncoded: header(threshold: 2, count: 3, x: 1, version: 2))
            Issue.record("version 2 must be refused")
        } catch {
            #expect(error.code == .unsupported)
        }
    }

    @Test func sealedShareIsExactly76Bytes() throws {
        let shareHeader = try ShareHeader(derEncoded: header(threshold: 2, count: 3, x: 1))
        for (length, valid) in [(75, false), (76, true), (77, false)] {
            let share = SealedShare(
                header: shareHeader, ephemeralKey: key, sealed: [UInt8](repeating: 1, count: length))
            let parsed = try? SealedShare(derEncoded: share.derBytes)
            #expect((parsed != nil) == valid, "\(length) bytes")
        }
    }

    /// A RecoverRequest's DER with the lists exactly as given (the initializer would sort the shares).
    func request(_ command: SignedCommand, _ chain: [DomainToken], _ shares: [SealedShare]) -> [UInt8] {
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { c in
            c.serializeRawBytes(command.derBytes)
            c.appendConstructedNode(identifier: .sequence) { c in for t in chain { c.serializeRawBytes(t.derBytes) } }
            c.appendConstructedNode(identifier: .sequence) { c in for s in shares { c.serializeRawBytes(s.derBytes) } }
        }
        return coder.serializedBytes
    }

    @Test func aRecoverRequestHoldsAt255SharesInOrder() throws {
        let command = SignedCommand(
            command: QuorumCommand(
                domainID: [UInt8](repeating: 1, count: 16), baseEpoch: 0, baseDigest: [UInt8](repeating: 0, count: 48),
                command: "domain.recover", arguments: [0x30, 0x00], issuedAt: WireTime.now, expiresAt: WireTime.now,
                nonce: [UInt8](repeating: 0, count: 16)),
            approvals: [])
        func share(_ x: Int) throws -> SealedShare {
            SealedShare(
                header: try ShareHeader(derEncoded: header(threshold: 2, count: 255, x: Int64(x))), ephemeralKey: key,
                sealed: [UInt8](repeating: 1, count: 76))
        }
        let token = try DomainToken(derEncoded: try ProtocolVectors.load().section("domainToken").hex("tokenDer"))
        let full = RecoverRequest(command: command, chain: [token], shares: try (1...255).map(share))
        #expect(try RecoverRequest(derEncoded: full.derBytes).shares.count == WireLimits.sharesMaximum)
        // 256 entries are refused before the 256th is read; a repeated x and an empty chain or share list too.
        let tooMany = try (1...255).map(share) + [try share(255)]
        #expect(throws: WireError.self) { try RecoverRequest(derEncoded: request(command, [token], tooMany)) }
        for (chain, shares) in [([token], [try share(3), try share(3)]), ([], [try share(1)]), ([token], [])] {
            #expect(throws: WireError.self) { try RecoverRequest(derEncoded: request(command, chain, shares)) }
        }
    }
}
