import CofferCrypto
import CofferWire
import Foundation
import NIOCore
import Testing

/// Every size and range of PROTOCOL §2 (``WireLimits``) tested at the limit (accepted) and one past it
/// (refused with `malformed`). Encoders are permissive on purpose, so the out-of-limit values can be built.
@Suite struct LimitTests {
    var g = MessageGenerator(seed: 42)

    private func accepts<M: DERMessage>(_ message: M, _ what: String) {
        #expect(throws: Never.self, "\(what) at the limit") { _ = try M(derEncoded: message.derBytes) }
    }

    private func refuses<M: DERMessage>(_ message: M, _ what: String) {
        do {
            _ = try M(derEncoded: message.derBytes)
            Issue.record("\(what) one past the limit was accepted")
        } catch {
            #expect(error.code == .malformed, "\(what)")
        }
    }

    private func text(_ bytes: Int) -> String { String(repeating: "x", count: bytes) }

    @Test mutating func namesAreOneTo128Bytes() {
        for (length, ok) in [(1, true), (128, true), (0, false), (129, false)] {
            let host = Host(id: text(length), signingKey: g.key())
            ok ? accepts(host, "name of \(length)") : refuses(host, "name of \(length)")
        }
        // 128 bytes of multi-byte characters: the limit is in bytes, not characters.
        accepts(Host(id: String(repeating: "é", count: 64), signingKey: g.key()), "64 × é")
        refuses(Host(id: String(repeating: "é", count: 64) + "x", signingKey: g.key()), "64 × é + x")
    }

    @Test mutating func fixedLengthFieldsTakeExactlyTheirLength() {
        for delta in [-1, 0, 1] {
            let ok = delta == 0
            let command = QuorumCommand(
                domainID: g.bytes(16 + delta), baseEpoch: 0, baseDigest: g.bytes(48), command: "c", arguments: [],
                issuedAt: g.time(), expiresAt: g.time(), nonce: g.bytes(16))
            ok ? accepts(command, "domainID") : refuses(command, "domainID \(16 + delta)")
            let digest = QuorumCommand(
                domainID: g.bytes(16), baseEpoch: 0, baseDigest: g.bytes(48 + delta), command: "c", arguments: [],
                issuedAt: g.time(), expiresAt: g.time(), nonce: g.bytes(16 + delta))
            ok ? accepts(digest, "digest") : refuses(digest, "digest \(48 + delta)")
            let recipient = Recipient(hsmID: g.hsmID(), ephemeralKey: g.key(), wrappedDKEK: g.bytes(60 + delta))
            ok ? accepts(recipient, "wrappedDKEK") : refuses(recipient, "wrappedDKEK \(60 + delta)")
            let info = DomainKeyInfo(keyID: g.bytes(8 + delta), created: g.time())
            ok ? accepts(info, "domain keyID") : refuses(info, "domain keyID \(8 + delta)")
            let hsmID = String(repeating: "a", count: 32 + delta)
            let member = Member(hsmID: hsmID, signingKey: g.key(), agreementKey: g.key(), kind: .online)
            ok ? accepts(member, "hsmID") : refuses(member, "hsmID \(32 + delta)")
        }
        refuses(
            Member(hsmID: String(repeating: "A", count: 32), signingKey: g.key(), agreementKey: g.key(), kind: .online),
            "upper-case hsmID")
    }

    @Test mutating func signaturesAreAtMost104Bytes() {
        accepts(Approval(operatorID: "a", signature: g.bytes(104)), "signature of 104")
        refuses(Approval(operatorID: "a", signature: g.bytes(105)), "signature of 105")
    }

    @Test mutating func identifiersAndEpochsStayWithinTheirRanges() throws {
        accepts(Envelope(id: Int64.max, body: .currentToken), "id 2^63 − 1")
        accepts(Envelope(id: 0, body: .currentToken), "id 0")
        refuses(Envelope(id: -1, body: .currentToken), "id −1")
        // 2^63 does not fit Int64: build it by hand (02 09 00 80 00 … 00).
        let tooLarge: [UInt8] =
            [0x30, 0x12, 0x02, 0x01, 0x01, 0x02, 0x09, 0x00, 0x80] + [UInt8](repeating: 0, count: 7)
            + [0xa5, 0x02, 0x05, 0x00]
        #expect(throws: WireError.self) { try Envelope(derEncoded: tooLarge) }
        let response = SessionResponse(requestID: 1, sealed: [])
        accepts(response, "requestID 1")
        refuses(SessionResponse(requestID: 0, sealed: []), "requestID 0")
        accepts(SessionResponse(requestID: Int64.max, sealed: []), "requestID 2^63 − 1")
    }

    @Test mutating func encryptionContextLimits() {
        func context(_ pairs: [(String, String)]) -> [UInt8] {
            // Built through the DER of a valid type then patched: encode pairs without the builder's checks.
            var der: [UInt8] = []
            for (key, value) in pairs {
                let k = derUTF8(key)
                let v = derUTF8(value)
                der += [0x30] + derLength(k.count + v.count) + k + v
            }
            return [0x30] + derLength(der.count) + der
        }
        let keys = (0..<65).map { String(format: "k%03d", $0) }
        #expect(throws: Never.self) { try EncryptionContext(derEncoded: context(keys.prefix(64).map { ($0, "v") })) }
        #expect(throws: WireError.self) { try EncryptionContext(derEncoded: context(keys.map { ($0, "v") })) }
        #expect(throws: Never.self) { try EncryptionContext(derEncoded: context([(text(2048), text(2048))])) }
        #expect(throws: WireError.self) { try EncryptionContext(derEncoded: context([(text(2049), "")])) }
        #expect(throws: WireError.self) { try EncryptionContext(derEncoded: context([("k", text(2049))])) }
        #expect(throws: WireError.self) { try EncryptionContext(derEncoded: context([("", "v")])) }
        let full = (0..<4).map { ("k\($0)" + text(2046), "") }  // 4 × 2048 = 8192 bytes
        #expect(throws: Never.self) { try EncryptionContext(derEncoded: context(full)) }
        #expect(throws: WireError.self) { try EncryptionContext(derEncoded: context(full + [("z", "")])) }
        #expect(throws: WireError.self) { try EncryptionContext([EncryptionContext.Pair(key: text(2049), value: "")]) }
    }

    @Test mutating func sessionCommandLengths() throws {
        let ekt = g.ekt()
        func roundTrip(_ command: SessionCommand) throws { _ = try SessionCommand(secretDER: command.secretDER) }
        for (length, ok) in [(1, true), (4096, true), (0, false), (4097, false)] {
            let command = SessionCommand.encrypt(
                key: ekt, plaintext: SecretBytes(copying: g.bytes(length)), context: .empty)
            if ok { try roundTrip(command) } else { #expect(throws: WireError.self) { try roundTrip(command) } }
        }
        for (length, ok) in [(1, true), (1024, true), (0, false), (1025, false)] {
            let command = SessionCommand.generateDataKey(
                key: ekt, length: length, context: .empty, returnPlaintext: true)
            if ok { try roundTrip(command) } else { #expect(throws: WireError.self) { try roundTrip(command) } }
            let random = SessionCommand.generateRandom(length: length)
            if ok { try roundTrip(random) } else { #expect(throws: WireError.self) { try roundTrip(random) } }
        }
        for (length, ok) in [(78, true), (4173, true), (77, false), (4174, false)] {
            let command = SessionCommand.decrypt(key: ekt, ciphertext: g.bytes(length), context: .empty)
            if ok { try roundTrip(command) } else { #expect(throws: WireError.self) { try roundTrip(command) } }
        }
    }

    @Test mutating func signingAndMacCommandLengths() throws {
        let ekt = g.ekt()
        func check(_ command: SessionCommand, _ ok: Bool, _ what: String) {
            #expect(
                ((try? SessionCommand(secretDER: command.secretDER)) != nil) == ok, "\(what) accepted: \(!ok)")
        }
        for (length, ok) in [(1, true), (4096, true), (0, false), (4097, false)] {
            let message = SecretBytes(copying: g.bytes(length))
            check(.sign(key: ekt, algorithm: "A", messageType: .raw, message: message), ok, "sign message \(length)")
            check(
                .verify(key: ekt, algorithm: "A", messageType: .digest, message: message, signature: [1]), ok,
                "verify message \(length)")
            check(.generateMac(key: ekt, algorithm: "A", message: message), ok, "mac message \(length)")
            check(.verifyMac(key: ekt, algorithm: "A", message: message, mac: [1]), ok, "verifyMac message \(length)")
        }
        let one = SecretBytes(copying: [1])
        for (length, ok) in [(1, true), (6144, true), (0, false), (6145, false)] {
            check(
                .verify(key: ekt, algorithm: "A", messageType: .raw, message: one, signature: g.bytes(length)), ok,
                "signature \(length)")
            #expect(((try? SessionResult(secretDER: SessionResult.signature(g.bytes(length)).secretDER)) != nil) == ok)
        }
        for (length, ok) in [(1, true), (64, true), (0, false), (65, false)] {
            check(.verifyMac(key: ekt, algorithm: "A", message: one, mac: g.bytes(length)), ok, "mac \(length)")
            #expect(((try? SessionResult(secretDER: SessionResult.mac(g.bytes(length)).secretDER)) != nil) == ok)
        }
        for (length, ok) in [(1, true), (8192, true), (0, false), (8193, false)] {
            #expect(((try? SessionResult(secretDER: SessionResult.publicKey(g.bytes(length)).secretDER)) != nil) == ok)
        }
        for (length, ok) in [(1, true), (6144, true), (0, false), (6145, false)] {
            check(
                .asymmetricDecrypt(key: ekt, algorithm: "A", ciphertext: g.bytes(length)), ok,
                "RSA ciphertext \(length)")
        }
        for (length, ok) in [(1, true), (6144, true), (0, false), (6145, false)] {
            check(
                .reEncryptWith(
                    source: ekt, sourceAlgorithm: "A", ciphertext: g.bytes(length), sourceContext: .empty,
                    destination: ekt, destinationAlgorithm: "B", destinationContext: .empty), ok,
                "reEncryptWith ciphertext \(length)")
        }
        for (length, ok) in [(1, true), (4096, true), (0, false), (4097, false)] {
            check(
                .asymmetricEncrypt(key: ekt, algorithm: "A", plaintext: SecretBytes(copying: g.bytes(length))), ok,
                "RSA plaintext \(length)")
        }
        for (length, ok) in [(1, true), (8192, true), (0, false), (8193, false)] {
            check(.deriveSharedSecret(key: ekt, peer: g.bytes(length)), ok, "peer key \(length)")
        }
        for (length, ok) in [(1, true), (128, true), (0, false), (129, false)] {
            check(
                .sealAccessKey(binding: g.bytes(16), secret: SecretBytes(copying: g.bytes(length))), ok,
                "access key secret \(length)")
        }
        for (length, ok) in [(16, true), (15, false), (17, false)] {
            check(.sealAccessKey(binding: g.bytes(length), secret: one), ok, "access key binding \(length)")
        }
        for (day, ok) in [("20261203", true), ("2026120", false), ("202612030", false), ("", false)] {
            check(.deriveSigV4DateKey(key: ekt, day: day), ok, "SigV4 day \(day)")
        }
        for (length, ok) in [(32, true), (66, true), (31, false), (67, false)] {
            let result = SessionResult.sharedSecret(SecretBytes(copying: g.bytes(length)))
            #expect(((try? SessionResult(secretDER: result.secretDER)) != nil) == ok, "shared secret \(length)")
        }
        for (length, ok) in [(1, true), (6144, true), (0, false), (6145, false)] {
            check(.importKeyMaterial(wrapping: ekt, encrypted: g.bytes(length), spec: "A"), ok, "encrypted \(length)")
        }
        for (length, ok) in [(32, true), (31, false), (33, false)] {
            let result = SessionResult.importedKey(token: ekt, keyMaterialID: g.bytes(length))
            #expect(((try? SessionResult(secretDER: result.secretDER)) != nil) == ok, "material id \(length)")
        }
        for (length, ok) in [(16, true), (15, false), (17, false)] {
            check(
                .createImportWrapping(keyID: g.bytes(length), importID: g.bytes(16), wrapping: "A", notAfter: g.time()),
                ok, "import keyID \(length)")
        }
        for (name, ok) in [(text(128), true), ("", false), (text(129), false)] {
            check(.sign(key: ekt, algorithm: name, messageType: .raw, message: one), ok, "algorithm \(name.count)")
        }
        // messageType is ENUMERATED { raw(0), digest(1) }: 2 is refused.
        var der = SessionCommand.sign(key: ekt, algorithm: "A", messageType: .digest, message: one).secretDER
            .withUnsafeBytes { [UInt8]($0) }
        let enumerated = try #require(
            (0..<der.count - 2).last { der[$0] == 0x0a && der[$0 + 1] == 0x01 && der[$0 + 2] == 0x01 })
        der[enumerated + 2] = 2
        #expect(throws: WireError.self) { try SessionCommand(secretDER: SecretBytes(copying: der)) }
    }

    @Test mutating func tokenAndFailureSizes() {
        let header = g.ekt().header
        for (length, ok) in [(29, true), (8220, true), (28, false), (8221, false)] {
            let ekt = ExportedKeyToken(header: header, sealed: g.bytes(length))
            ok ? accepts(ekt, "EKT sealed \(length)") : refuses(ekt, "EKT sealed \(length)")
        }
        accepts(Failure(.internal, text(1024)), "failure message of 1024")
        // Failure's init cuts long messages; build one past the limit by hand.
        let long =
            [0x30, 0x82, 0x04, 0x06, 0x0a, 0x01, 0x63, 0x0c, 0x82, 0x04, 0x01] + [UInt8](repeating: 0x78, count: 1025)
        #expect(throws: WireError.self) { try Failure(derEncoded: long) }
        #expect(Failure(.internal, text(2000)).message.utf8.count == 1024)
    }

    @Test mutating func rulesAlternativesMinimumsAndApprovals() {
        let roles = (0..<65).map { String(format: "r%02d", $0) }
        accepts(Rule(roles.prefix(64).map { Requirement(role: $0, minimum: 1) }), "64 requirements")
        refuses(Rule(roles.map { Requirement(role: $0, minimum: 1) }), "65 requirements")
        refuses(Rule([]), "0 requirements")
        accepts(Requirement(role: "a", minimum: 64), "minimum 64")
        refuses(Requirement(role: "a", minimum: 65), "minimum 65")
        refuses(Requirement(role: "a", minimum: 0), "minimum 0")
        let rule = Rule([Requirement(role: "a", minimum: 1)])
        accepts(CommandRule(command: "c", alternatives: Array(repeating: rule, count: 16)), "16 alternatives")
        refuses(CommandRule(command: "c", alternatives: Array(repeating: rule, count: 17)), "17 alternatives")
        refuses(CommandRule(command: "c", alternatives: []), "0 alternatives")
        let names = (0..<65).map { String(format: "op%02d", $0) }
        let command = g.quorumCommand()
        accepts(
            SignedCommand(
                command: command, approvals: names.prefix(64).map { Approval(operatorID: $0, signature: []) }),
            "64 approvals")
        refuses(
            SignedCommand(command: command, approvals: names.map { Approval(operatorID: $0, signature: []) }),
            "65 approvals")
    }

    @Test mutating func listsHoldAtMost1024Entries() {
        let roles = (0..<1025).map { String(format: "role%04d", $0) }
        accepts(Operator(id: "a", signingKey: g.key(), roles: Array(roles.prefix(1024))), "1024 roles")
        refuses(Operator(id: "a", signingKey: g.key(), roles: roles), "1025 roles")
    }

    @Test mutating func parameterRanges() {
        let ranges = [
            WireLimits.sessionLifetime, WireLimits.domainKeyRetention, WireLimits.commandMaxAge, WireLimits.clockSkew,
        ]
        for (index, range) in ranges.enumerated() {
            func with(_ value: Int) -> Parameters {
                var fields = [3600, 7, 86_400, 300]
                fields[index] = value
                return Parameters(
                    sessionLifetime: fields[0], domainKeyRetention: fields[1], commandMaxAge: fields[2],
                    clockSkew: fields[3])
            }
            accepts(with(range.lowerBound), "parameter \(index) at its minimum")
            accepts(with(range.upperBound), "parameter \(index) at its maximum")
            refuses(with(range.lowerBound - 1), "parameter \(index) below")
            refuses(with(range.upperBound + 1), "parameter \(index) above")
            #expect(!with(range.upperBound + 1).isWithinRanges)
        }
    }

    @Test func nestingBeyondEverySchemaIsRefused() {
        // 33 nested SEQUENCEs: deeper than any Coffer structure, refused as a schema mismatch.
        var der: [UInt8] = [0x05, 0x00]
        for _ in 0..<WireLimits.nestingMaximum + 1 { der = [0x30] + derLength(der.count) + der }
        #expect(throws: WireError.self) { try Envelope(derEncoded: der) }
        #expect(throws: WireError.self) { try DomainToken(derEncoded: der) }
    }

    @Test func framesHoldOneToOneMebibyte() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(WireLimits.frameBytes.upperBound))
        buffer.writeBytes([UInt8](repeating: 0x30, count: WireLimits.frameBytes.upperBound))
        guard case .body(let body)? = try FrameParser.nextFrame(from: &buffer) else {
            Issue.record("a 1 MiB frame must be read")
            return
        }
        #expect(body.readableBytes == 1 << 20)
        var over = ByteBuffer()
        over.writeInteger(UInt32(WireLimits.frameBytes.upperBound + 1))
        #expect(throws: WireError.self) { try FrameParser.nextFrame(from: &over) }
    }
}

func derLength(_ count: Int) -> [UInt8] {
    if count < 0x80 { return [UInt8(count)] }
    var bytes: [UInt8] = []
    var n = count
    while n > 0 {
        bytes.insert(UInt8(n & 0xff), at: 0)
        n >>= 8
    }
    return [0x80 | UInt8(bytes.count)] + bytes
}

func derUTF8(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    return [0x0c] + derLength(bytes.count) + bytes
}
