import CofferCrypto
import CofferTestSupport
import CofferWire
import Testing

/// protocol.json's `invalid` list: 90 encodings that a strict decoder of the named type must refuse
/// before any cryptography. The reason must be the one the reference names, except where swift-asn1
/// refuses the TLV layer first (its one reason `der` then stands for the reference's TLV reasons).
@Suite struct InvalidEncodingTests {
    /// The reference's reasons that belong to the TLV layer, which swift-asn1 enforces.
    static let tlvReasons: Set<String> = ["trailingBytes", "indefiniteLength", "nonMinimalLength", "nonMinimalTag"]

    /// Cases whose reason an extension of the protocol changed, with the reason now. PROTOCOL §7 reserves
    /// SessionCommand `[7]` and up for the asymmetric and HMAC commands; the reference (revision 2) had
    /// none, so its "unknown alternative [7]" (`a7023000`) is now a `sign` with no fields: still refused,
    /// still `malformed`, for another reason. `theFirstUnassignedCommandIsUnknown` keeps the case's intent.
    static let superseded: [Int: String] = [86: "missingField"]

    @Test func theFirstUnassignedCommandIsUnknown() throws {
        do {
            // [21]: the first alternative no command has (docs/protocol.md: [7] … [20] are assigned).
            _ = try SessionCommand(secretDER: SecretBytes(copying: [0xb5, 0x02, 0x30, 0x00]))
            Issue.record("SessionCommand [21] was accepted")
        } catch {
            #expect(error.reason == .unknownCommand)
            #expect(error.code == .malformed)
        }
    }

    @Test func everyInvalidEncodingIsRefusedWithItsReason() throws {
        let tests = try ProtocolVectors.load().section("invalid").objects("tests")
        var byType: [String: Int] = [:]
        for test in tests {
            let id = try test.int("tcId")
            let type = try test.string("type")
            let der = try test.hex("der")
            let expected = try Self.superseded[id] ?? test.string("error")
            do {
                try Self.decode(type, der)
                Issue.record("tcId \(id) (\(type): \(try test.string("comment"))) was accepted")
            } catch let error as WireError {
                let reasonMatches =
                    error.reason.rawValue == expected
                    || (error.reason == .der && Self.tlvReasons.contains(expected))
                #expect(reasonMatches, "tcId \(id): expected \(expected), got \(error)")
                let expectedCode: WireError.Code =
                    type == "Envelope" && expected == "unknownVersion" ? .unsupported : .malformed
                #expect(error.code == expectedCode, "tcId \(id)")
            }
            byType[type, default: 0] += 1
        }
        print("invalid: ran \(tests.count) cases: \(byType.sorted { $0.key < $1.key })")
        #expect(tests.count == 90)
    }

    static func decode(_ type: String, _ der: [UInt8]) throws {
        switch type {
        case "Envelope": _ = try Envelope(derEncoded: der)
        case "HSMIdentity": _ = try HSMIdentity(derEncoded: der)
        case "DomainState": _ = try DomainState(derEncoded: der)
        case "QuorumCommand": _ = try QuorumCommand(derEncoded: der)
        case "SignedCommand": _ = try SignedCommand(derEncoded: der)
        case "EKTHeader": _ = try ExportedKeyToken.Header(derEncoded: der)
        case "SessionCommand": _ = try SessionCommand(secretDER: SecretBytes(copying: der))
        case "SessionRequest": _ = try SessionRequest(derEncoded: der)
        default: throw VectorError("no decoder for \(type)")
        }
    }
}
