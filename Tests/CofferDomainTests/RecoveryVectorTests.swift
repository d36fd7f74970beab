import CofferCrypto
import CofferDomain
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Testing

/// Known-answer vectors of recovery shares (docs/protocol.md, "Recovery"): `Vectors/recovery.json` was
/// produced by this code (`COFFER_WRITE_VECTORS=1 swift test --filter RecoveryVectorTests` rewrites it)
/// and is checked here and, independently, with Python's `cryptography` by
/// `tests/e2e/test_recovery_vectors.py` (ECDH, the one-step KDF, AES-GCM, Shamir and the public key).
@Suite struct RecoveryVectorTests {
    @Test func theRecordedSharesOpenAndRebuildTheMembersKey() throws {
        if ProcessInfo.processInfo.environment["COFFER_WRITE_VECTORS"] == "1" { try write() }
        let vector = try VectorFile.load("recovery", from: .module)
        let memberKey = try P384PublicKey(spki: try vector.hex("memberKey"))
        guard let shares = vector["shares"] as? [[String: Any]], shares.count == (try vector.int("count")) else {
            throw VectorError("shares")
        }
        var opened: [Shamir.Share] = []
        for entry in shares {
            let custodian = try P384.KeyAgreement.PrivateKey(rawRepresentation: try entry.hex("custodianPrivate"))
            let share = try SealedShare(derEncoded: try entry.hex("sealedShare"))
            #expect(share.header.derBytes == (try entry.hex("header")))
            #expect(share.header.member == (try vector.string("member")))
            #expect(share.header.memberKey == memberKey)
            #expect(share.header.recipient == P384PublicKey(custodian.publicKey))
            #expect(share.ephemeralKey.spki == (try entry.hex("ephemeralKey")))
            #expect(share.sealed == (try entry.hex("sealed")))
            #expect(try Self.kdfKey(share, custodian) == (try entry.hex("kdfKey")))
            let y = try RecoveryShares.open(share, with: custodian)
            #expect(y.withUnsafeBytes { [UInt8]($0) } == (try entry.hex("y")))
            opened.append(Shamir.Share(x: UInt8(share.header.x), y: y))
        }
        for pair in [[0, 1], [0, 2], [1, 2]] {
            let scalar = try Shamir.combine(pair.map { opened[$0] }).withUnsafeBytes { [UInt8]($0) }
            #expect(scalar == (try vector.hex("memberPrivate")))
            #expect(P384PublicKey(try ECDH.privateKey(scalar: scalar).publicKey) == memberKey)
        }
    }

    /// `K = KDF(ECDH(d, Qe), "coffer recovery share v1", member ‖ Qe, fingerprint(Qr) ‖ Qr, H(DER(header)))`,
    /// computed here from the primitives rather than through `RecoveryShares`.
    static func kdfKey(_ share: SealedShare, _ recipient: P384.KeyAgreement.PrivateKey) throws -> [UInt8] {
        let z = try ECDH.sharedSecret(recipient, share.ephemeralKey)
        let key = OneStepKDF.derive(
            sharedSecret: z, label: .recoveryShare,
            partyU: OneStepKDF.partyInfo(id: share.header.member, publicKey: share.ephemeralKey),
            partyV: OneStepKDF.partyInfo(id: share.header.recipient.fingerprint, publicKey: share.header.recipient),
            extra: Hash.h(share.header.derBytes))
        return key.withUnsafeBytes { [UInt8]($0) }
    }

    /// Rewrites `Vectors/recovery.json` in the source tree from a seeded kit of three custodians.
    private func write() throws {
        var random = SeededRandom(seed: "coffer recovery vectors v1")
        let custodians = (0..<3).map { _ in random.agreementKey() }
        var replay = random
        _ = replay.bytes(count: 48)  // the kit's signing key
        let memberPrivate = replay.bytes(count: 48)
        let kit = try RecoveryKit.create(
            custodians: custodians.map { P384PublicKey($0.publicKey) }, threshold: 2, random: &random)
        let shares: [[String: Any]] = try kit.shares.enumerated().map { index, share in
            [
                "x": share.header.x,
                "custodianPrivate": Hex.encode(custodians[index].rawRepresentation),
                "custodianKey": Hex.encode(share.header.recipient.spki),
                "header": Hex.encode(share.header.derBytes),
                "sealedShare": Hex.encode(share.derBytes),
                "ephemeralKey": Hex.encode(share.ephemeralKey.spki),
                "sealed": Hex.encode(share.sealed),
                "kdfKey": Hex.encode(try Self.kdfKey(share, custodians[index])),
                "y": Hex.encode(
                    try RecoveryShares.open(share, with: custodians[index]).withUnsafeBytes { [UInt8]($0) }),
            ]
        }
        let vector: [String: Any] = [
            "description":
                "Recovery shares of docs/protocol.md: a 2-of-3 kit; each share sealed to its custodian. Test data only.",
            "label": "coffer recovery share v1", "threshold": 2, "count": 3,
            "member": kit.member.identity.identity.hsmID,
            "memberKey": Hex.encode(kit.member.identity.identity.agreementKey.spki),
            "memberPrivate": Hex.encode(memberPrivate), "shares": shares,
        ]
        let data = try JSONSerialization.data(withJSONObject: vector, options: [.prettyPrinted, .sortedKeys])
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Vectors/recovery.json")
        try data.write(to: path)
    }
}
