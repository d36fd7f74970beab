import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto

/// A seeded generator of random, valid wire messages for round-trip properties. Deterministic per seed,
/// so a failing case can be replayed by its seed.
struct MessageGenerator {
    private var random: SplitMix64
    private let keys: [P384PublicKey]

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        // Key generation is the slow part: a small pool serves every message.
        keys = (0..<6).map { _ in P384PublicKey(P384.Signing.PrivateKey().publicKey) }
    }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func int64(_ range: ClosedRange<Int64>) -> Int64 {
        // Mostly small values, sometimes the edges of the range.
        switch int(0...3) {
        case 0: return range.lowerBound
        case 1: return range.upperBound
        default:
            let span = UInt64(bitPattern: range.upperBound &- range.lowerBound)
            return range.lowerBound &+ Int64(bitPattern: span == UInt64.max ? next() : next() % (span &+ 1))
        }
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func key() -> P384PublicKey { keys[int(0...(keys.count - 1))] }

    /// A name of 1 … 40 characters drawn from ASCII, Latin, CJK and emoji, at most 128 UTF-8 bytes.
    mutating func name() -> String {
        let alphabet: [Character] = ["a", "b", "z", "-", ".", "é", "e\u{301}", "漢", "🔑", "0"]
        var text = ""
        for _ in 0..<int(1...40) {
            let candidate = text + String(alphabet[int(0...(alphabet.count - 1))])
            if candidate.utf8.count > 128 { break }
            text = candidate
        }
        return text
    }

    mutating func hsmID() -> String { Hex.encode(bytes(16)) }
    mutating func time() -> WireTime { WireTime(secondsSinceEpoch: int64(-62_135_596_800...253_402_300_799)) }

    mutating func uniqueNames(_ count: Int) -> [String] {
        var seen: Set<[UInt8]> = []
        var out: [String] = []
        while out.count < count {
            let n = name()
            if seen.insert(Array(n.utf8)).inserted { out.append(n) }
        }
        return out.sortedByUTF8 { $0 }
    }

    mutating func parameters() -> Parameters {
        Parameters(
            sessionLifetime: int(1...86_400), domainKeyRetention: int(1...64), commandMaxAge: int(1...2_592_000),
            clockSkew: int(0...3600))
    }

    mutating func rule() -> Rule {
        Rule(uniqueNames(int(1...4)).map { Requirement(role: $0, minimum: int(1...64)) })
    }

    mutating func domainState() -> DomainState {
        let operators = uniqueNames(int(1...5)).map {
            Operator(id: $0, signingKey: key(), roles: uniqueNames(int(0...3)))
        }
        let members = (0..<int(1...4)).map { _ in hsmID() }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { Member(hsmID: $0, signingKey: key(), agreementKey: key(), kind: bool() ? .online : .recovery) }
        let hosts = uniqueNames(int(0...3)).map { Host(id: $0, signingKey: key()) }
        let rules = uniqueNames(int(0...4)).map {
            CommandRule(command: $0, alternatives: (0..<int(1...3)).map { _ in rule() })
        }
        var keyIDs: Set<[UInt8]> = []
        while keyIDs.count < int(1...4) { keyIDs.insert(bytes(8)) }
        return DomainState(
            domainID: bytes(16), name: name(), epoch: int64(WireLimits.idRange), previous: bytes(48),
            operators: operators, members: members, hosts: hosts,
            rules: rules, domainKeys: keyIDs.map { DomainKeyInfo(keyID: $0, created: time()) }, parameters: parameters()
        )
    }

    mutating func quorumCommand() -> QuorumCommand {
        QuorumCommand(
            domainID: bytes(16), baseEpoch: int64(WireLimits.idRange), baseDigest: bytes(48), command: name(),
            arguments: bytes(int(0...50)), issuedAt: time(), expiresAt: time(), nonce: bytes(16))
    }

    mutating func signedCommand() -> SignedCommand {
        SignedCommand(
            command: quorumCommand(),
            approvals: uniqueNames(int(0...5)).map { Approval(operatorID: $0, signature: bytes(int(0...104))) })
    }

    mutating func ekt() -> ExportedKeyToken {
        let kind = ExportedKeyToken.Kind.allCases[int(0...2)]
        let header = ExportedKeyToken.Header(
            domainID: bytes(16), domainKeyID: bytes(8), kind: kind, subject: bytes(kind == .session ? 48 : 32),
            spec: name(), notBefore: time(), notAfter: kind == .backingKey && bool() ? nil : time())
        return ExportedKeyToken(header: header, sealed: bytes(int(29...200)))
    }

    mutating func context() -> EncryptionContext {
        let keys = uniqueNames(int(0...6))
        // The generator's keys are unique and valid, so this cannot fail.
        return (try? EncryptionContext(keys.map { EncryptionContext.Pair(key: $0, value: bool() ? "" : name()) }))
            ?? .empty
    }

    mutating func domainToken() -> DomainToken {
        let state = domainState()
        let recipients = state.members.map { Recipient(hsmID: $0.hsmID, ephemeralKey: key(), wrappedDKEK: bytes(60)) }
        return DomainToken(
            state: state, authorization: signedCommand(),
            keys: SealedDomainKeys(sealed: bytes(int(28...300)), recipients: recipients),
            exporter: state.members[0].hsmID, signature: bytes(int(0...104)))
    }

    mutating func sessionCommand() -> SessionCommand {
        switch int(0...20) {
        case 0: return .generateRandom(length: int(1...1024))
        case 19: return .sealAccessKey(binding: bytes(16), secret: SecretBytes(copying: bytes(int(1...128))))
        case 20: return .deriveSigV4DateKey(key: ekt(), day: "2026120\(int(1...9))")
        case 1: return .createBackingKey(keyID: bytes(16), backingKeyID: bytes(16), spec: name())
        case 2: return .encrypt(key: ekt(), plaintext: SecretBytes(copying: bytes(int(1...300))), context: context())
        case 3: return .decrypt(key: ekt(), ciphertext: bytes(int(78...300)), context: context())
        case 4:
            return .reEncrypt(
                source: ekt(), ciphertext: bytes(int(78...300)), sourceContext: context(),
                destination: ekt(), destinationContext: context())
        case 5: return .generateDataKey(key: ekt(), length: int(1...1024), context: context(), returnPlaintext: bool())
        case 6: return .rewrapToken(token: ekt())
        case 7:
            return .sign(
                key: ekt(), algorithm: name(), messageType: bool() ? .raw : .digest,
                message: SecretBytes(copying: bytes(int(1...300))))
        case 8:
            return .verify(
                key: ekt(), algorithm: name(), messageType: bool() ? .raw : .digest,
                message: SecretBytes(copying: bytes(int(1...300))), signature: bytes(int(1...300)))
        case 9: return .generateMac(key: ekt(), algorithm: name(), message: SecretBytes(copying: bytes(int(1...300))))
        case 10:
            return .verifyMac(
                key: ekt(), algorithm: name(), message: SecretBytes(copying: bytes(int(1...300))),
                mac: bytes(int(1...64)))
        case 11: return .publicKey(key: ekt())
        case 12:
            return .asymmetricEncrypt(
                key: ekt(), algorithm: name(), plaintext: SecretBytes(copying: bytes(int(1...300))))
        case 13: return .asymmetricDecrypt(key: ekt(), algorithm: name(), ciphertext: bytes(int(1...600)))
        case 14: return .deriveSharedSecret(key: ekt(), peer: bytes(int(1...200)))
        case 15:
            return .generateDataKeyPair(key: ekt(), pairSpec: name(), context: context(), returnPlaintext: bool())
        case 16: return .createImportWrapping(keyID: bytes(16), importID: bytes(16), wrapping: name(), notAfter: time())
        case 18:
            return .reEncryptWith(
                source: ekt(), sourceAlgorithm: name(), ciphertext: bytes(int(1...600)), sourceContext: context(),
                destination: ekt(), destinationAlgorithm: name(), destinationContext: context())
        default:
            return .importKeyMaterial(
                wrapping: ekt(), encrypted: bytes(int(1...600)), spec: name(), validTo: bool() ? time() : nil)
        }
    }

    mutating func sessionResult() -> SessionResult {
        switch int(0...13) {
        case 0: return .random(SecretBytes(copying: bytes(int(1...1024))))
        case 1: return .token(ekt())
        case 2: return .ciphertext(bytes(int(78...400)))
        case 3: return .plaintext(keyID: bytes(16), plaintext: SecretBytes(copying: bytes(int(1...400))))
        case 4:
            return .dataKey(
                plaintext: bool() ? nil : SecretBytes(copying: bytes(int(1...64))), ciphertext: bytes(int(78...400)))
        case 5: return .signature(bytes(int(1...600)))
        case 6: return .mac(bytes(int(1...64)))
        case 7: return .publicKey(bytes(int(1...600)))
        case 8: return .verified(bool())
        case 9: return .sharedSecret(SecretBytes(copying: bytes(int(32...66))))
        case 10:
            return .dataKeyPair(
                privateKey: bool() ? nil : SecretBytes(copying: bytes(int(1...300))),
                privateKeyCiphertext: bytes(int(78...400)), publicKey: bytes(int(1...300)))
        case 11: return .importParameters(token: ekt(), publicKey: bytes(int(1...300)))
        case 12: return .importedKey(token: ekt(), keyMaterialID: bytes(32))
        default: return .failure(Failure(Failure.Code.allCases[int(0...(Failure.Code.allCases.count - 1))], name()))
        }
    }

    mutating func envelope() -> Envelope {
        let id = int64(WireLimits.idRange)
        let identity = HSMIdentity(
            hsmID: hsmID(), signingKey: key(), agreementKey: key(), state: .uninitialized,
            challenge: bytes(16))
        let operational = HSMIdentity(
            hsmID: hsmID(), signingKey: key(), agreementKey: key(), state: .operational,
            domainID: bytes(16), epoch: int64(WireLimits.idRange), challenge: bytes(16))
        let signedInit = SignedInit(
            initMessage: SessionInit(
                domainID: bytes(16), epoch: int64(WireLimits.idRange), hostID: name(),
                ephemeralKey: key(), time: time(), nonce: bytes(16)),
            signature: bytes(int(0...104)))
        let accept = SignedAccept(
            accept: SessionAccept(
                hsmID: hsmID(), ephemeralKey: key(), initDigest: bytes(48), esk: bytes(60), ekt: ekt()),
            signature: bytes(int(0...104)))
        let bodies: [Envelope.Body] = [
            .identify(challenge: bytes(16)), .command(signedCommand()), .applyToken(domainToken()),
            .sessionInit(signedInit),
            .sessionRequest(
                SessionRequest(ekt: ekt(), requestID: int64(WireLimits.requestIDRange), sealed: bytes(int(0...200)))),
            .currentToken,
            .identity(SignedIdentity(identity: bool() ? identity : operational, signature: bytes(int(0...104)))),
            .token(domainToken()), .accept(accept),
            .sessionResponse(SessionResponse(requestID: int64(WireLimits.requestIDRange), sealed: bytes(int(0...200)))),
            .failure(Failure(.replay, name())),
        ]
        return Envelope(id: id, body: bodies[int(0...(bodies.count - 1))])
    }
}
