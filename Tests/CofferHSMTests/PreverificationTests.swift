import CofferCrypto
import CofferDomain
import CofferHSM
import CofferTestSupport
import CofferWire
import Testing

/// The server verifies a command's approvals and a domain token's signatures before it takes the core's
/// lock (anyone who reaches the socket can send either) and hands the proof to the core: the proof must
/// answer exactly as the core would, and must be trusted only for its own message, state and time.
@Suite struct PreverificationTests {
    /// Two operational cores, A and B, in one domain (A created it; B joined with the token listing it).
    struct TwoMembers {
        var f = DomainFixture(seed: "preverification")
        let keysA = HSMKeys.generate()
        let keysB = HSMKeys.generate()
        var a: HSMCore
        var b: HSMCore
        var nextID: Int64 = 1

        init() throws {
            a = HSMCore(keys: keysA)
            b = HSMCore(keys: keysB)
            let (create, _) = try f.create(on: keysA)
            _ = try token(ask(\.a, .command(create)))
            let withB = try f.sign(
                f.command(
                    .modifyMembers(
                        add: [MemberAddition(identity: try f.identity(of: keysB), kind: .online)], remove: []),
                    base: state(of: a)),
                by: ["alice", "bob"])
            let listed = try token(ask(\.a, .command(withB)))
            let join = try f.sign(f.command(.join(listed), base: nil), by: ["alice", "carol"])
            _ = try token(ask(\.b, .command(join)))
        }

        func state(of core: HSMCore) throws -> DomainState { try #require(core.domainState) }

        /// A signed rotateKeys on `core`'s current state.
        mutating func rotation(on core: HSMCore, by signers: [String] = ["alice", "bob"]) throws -> SignedCommand {
            try f.sign(f.command(.rotateKeys, base: try state(of: core)), by: signers)
        }

        mutating func ask(
            _ core: WritableKeyPath<TwoMembers, HSMCore>, _ body: Envelope.Body, proof: HSMCore.Proof? = nil
        )
            -> Envelope.Body
        {
            nextID += 1
            var random = f.random
            defer { f.random = random }
            return self[keyPath: core].handle(
                Envelope(id: nextID, body: body), now: f.now, random: &random, proof: proof
            )
            .answer.body
        }

        /// `body` verified outside the core, as the server does.
        func preverify(_ core: HSMCore, _ body: Envelope.Body) throws -> Result<HSMCore.Proof, Failure> {
            HSMCore.preverify(try #require(core.preverification(for: body, now: f.now)))
        }

        func token(_ body: Envelope.Body) throws -> DomainToken {
            guard case .token(let token) = body else { throw FixtureError() }
            return token
        }
    }

    @Test func aPreverifiedCommandExecutesAsItWouldHave() throws {
        var m = try TwoMembers()
        let rotate = try m.rotation(on: m.a)
        // A twin of A executes the command without a proof, from the same random stream.
        var twin = m.a
        var twinRandom = m.f.random
        let plain = try m.token(
            twin.handle(Envelope(id: 99, body: .command(rotate)), now: m.f.now, random: &twinRandom).answer.body)
        let proof = try m.preverify(m.a, .command(rotate)).get()
        let token = try m.token(m.ask(\.a, .command(rotate), proof: proof))
        #expect(token.state.epoch == 2 && token.state.domainKeys.count == 2)
        #expect(token.state == plain.state)
        #expect(m.a.domainState == token.state)
        // The token it made is applied by B through a proof as well.
        let applied = try m.preverify(m.b, .applyToken(token)).get()
        #expect(try m.token(m.ask(\.b, .applyToken(token), proof: applied)) == token)
        #expect(m.b.domainState == token.state)
        // Once there, the same token is a relay of B's own state: nothing to verify.
        #expect(m.b.preverification(for: .applyToken(token), now: m.f.now) == nil)
    }

    @Test func aRefusalOutsideTheLockIsTheCoresOwnWordForWord() throws {
        var m = try TwoMembers()
        // A bad approval, an unknown operator, a stale base, a command of an uninitialized HSM, an expired window.
        let stale = try m.rotation(on: m.a)
        _ = try m.token(m.ask(\.a, .command(try m.rotation(on: m.a, by: ["bob", "carol"]))))
        var forged = try m.rotation(on: m.a)
        var signature = forged.approvals[1].signature
        signature[signature.count - 1] ^= 1
        forged = SignedCommand(
            command: forged.command,
            approvals: [
                forged.approvals[0], Approval(operatorID: forged.approvals[1].operatorID, signature: signature),
            ])
        let stranger = try m.f.sign(m.f.command(.rotateKeys, base: try m.state(of: m.a)), by: ["alice"])
        let byMallory = SignedCommand(
            command: stranger.command,
            approvals: [Approval(operatorID: "mallory", signature: stranger.approvals[0].signature)])
        let expiring = try m.f.sign(
            m.f.command(.rotateKeys, base: try m.state(of: m.a), lifetime: 60), by: ["alice", "bob"])
        var another = DomainFixture(seed: "another")
        let (create, _) = try another.create(on: HSMKeys.generate())
        let alone = try m.f.sign(m.f.command(.rotateKeys, base: try m.state(of: m.a)), by: ["bob"])
        var expected: [Failure.Code] = [.badSignature, .unknownOperator, .staleBase, .wrongState, .quorumNotMet]
        var commands = [forged, byMallory, stale, create, alone]
        m.f.now = m.f.now.adding(seconds: 120)
        commands.append(expiring)
        expected.append(.timeWindow)
        for (command, code) in zip(commands, expected) {
            guard case .failure(let outside) = try m.preverify(m.a, .command(command)),
                case .failure(let inside) = m.ask(\.a, .command(command))
            else {
                Issue.record("\(code): must be refused both ways")
                continue
            }
            #expect(outside.code == code)
            #expect(outside == inside)
        }
        // A token that does not follow B's state: refused outside as the core refuses it.
        var unrelatedDomain = DomainFixture(seed: "unrelated")
        let unrelated = try unrelatedDomain.create(on: HSMKeys.generate()).1.token
        guard case .failure(let outside) = try m.preverify(m.b, .applyToken(unrelated)),
            case .failure(let inside) = m.ask(\.b, .applyToken(unrelated))
        else {
            Issue.record("an unrelated token must be refused")
            return
        }
        #expect(outside == inside && outside.code == .wrongDomain)
    }

    @Test func aProofIsTrustedOnlyForItsOwnCommandStateAndTime() throws {
        var m = try TwoMembers()
        let rotate = try m.rotation(on: m.a)
        let proof = try m.preverify(m.a, .command(rotate)).get()

        // Another command with a bad approval does not pass on this proof.
        var forged = try m.rotation(on: m.a, by: ["bob", "carol"])
        var signature = forged.approvals[0].signature
        signature[signature.count - 1] ^= 1
        forged = SignedCommand(
            command: forged.command,
            approvals: [
                Approval(operatorID: forged.approvals[0].operatorID, signature: signature), forged.approvals[1],
            ])
        guard case .failure(let other) = m.ask(\.a, .command(forged), proof: proof) else {
            Issue.record("a proof for another command must not carry over")
            return
        }
        #expect(other.code == .badSignature)

        // At another time the command is checked again: past its window, it is refused.
        let saved = m.f.now
        m.f.now = m.f.now.adding(seconds: 86_400 * 2)
        guard case .failure(let late) = m.ask(\.a, .command(rotate), proof: proof) else {
            Issue.record("a proof made at another time must not carry over")
            return
        }
        #expect(late.code == .timeWindow)
        m.f.now = saved

        // After the state moved (another command executed meanwhile), the proof's state is gone: refused as stale.
        let first = try m.rotation(on: m.a, by: ["alice", "carol"])
        _ = try m.token(m.ask(\.a, .command(first)))
        guard case .failure(let moved) = m.ask(\.a, .command(rotate), proof: proof) else {
            Issue.record("a proof for a state that moved must not carry over")
            return
        }
        #expect(moved.code == .staleBase)

        // Given with a token, a command's proof is not a token's (the types see to that): the core verifies
        // the token itself, and B, whose state it follows, applies it as if no proof had come.
        let current = try m.token(m.ask(\.a, .currentToken))
        #expect(try m.token(m.ask(\.b, .applyToken(current), proof: proof)) == current)
        #expect(m.b.domainState == current.state)
    }

    @Test func aTokenProofIsTrustedOnlyForItsOwnTokenAndState() throws {
        var m = try TwoMembers()
        let first = try m.token(m.ask(\.a, .command(try m.rotation(on: m.a))))
        let second = try m.token(m.ask(\.a, .command(try m.rotation(on: m.a, by: ["bob", "carol"]))))
        let proofFirst = try m.preverify(m.b, .applyToken(first)).get()
        // The second token does not follow B's state; the first token's proof does not make it.
        guard case .failure(let skipped) = m.ask(\.b, .applyToken(second), proof: proofFirst) else {
            Issue.record("a proof for another token must not carry over")
            return
        }
        #expect(skipped.code == .staleBase)
        #expect(m.b.domainState?.epoch == 1)
        // The first token, then the second, each verified by the core itself, bring B up to date.
        #expect(try m.token(m.ask(\.b, .applyToken(first))) == first)
        #expect(try m.token(m.ask(\.b, .applyToken(second))) == second)
        #expect(m.b.domainState == second.state)
        // Now past both: the first token's proof, made for B's state before them, cannot take B back.
        guard case .failure(let rolledBack) = m.ask(\.b, .applyToken(first), proof: proofFirst) else {
            Issue.record("an old proof must not move an HSM back to an earlier state")
            return
        }
        #expect(rolledBack.code == .staleBase)
        #expect(m.b.domainState == second.state)
    }

    @Test func aTokenProofIsTrustedOnlyOnTheHSMThatMadeIt() throws {
        var m = try TwoMembers()
        // A token that removes B and keeps A, made on a copy of A so that A and B still share their state.
        var copyOfA = m.a
        var random = m.f.random
        let removal = try m.f.sign(
            m.f.command(.modifyMembers(add: [], remove: [m.keysB.hsmID]), base: try m.state(of: m.a)),
            by: ["alice", "bob"])
        let removesB = try m.token(
            copyOfA.handle(Envelope(id: 99, body: .command(removal)), now: m.f.now, random: &random).answer.body)
        // To A the token is an update; A's proof of that does not keep B, whom it removes, in the domain.
        let proofOfA = try m.preverify(m.a, .applyToken(removesB)).get()
        var b = m.b
        let answer = b.handle(
            Envelope(id: 5, body: .applyToken(removesB)), now: m.f.now, random: &random, proof: proofOfA)
        #expect(try m.token(answer.answer.body) == removesB)
        guard case .restartedWithNewIdentity = answer.effect else {
            Issue.record("B must wipe itself and start over, whatever A's proof says")
            return
        }
        #expect(b.domainState == nil)
        // A, with its own proof, follows the token.
        #expect(try m.token(m.ask(\.a, .applyToken(removesB), proof: proofOfA)) == removesB)
        #expect(m.a.domainState == removesB.state)
    }

    @Test func aSessionRequestToAnHSMOutsideADomainIsRefusedAsBefore() throws {
        // Session requests skip the core's general switch only on an operational HSM; elsewhere they get its answers.
        let m = try TwoMembers()
        let ekt = ExportedKeyToken(
            header: ExportedKeyToken.Header(
                domainID: [UInt8](repeating: 1, count: WireLimits.domainIDLength),
                domainKeyID: [UInt8](repeating: 2, count: WireLimits.domainKeyIDLength), kind: .session,
                subject: [UInt8](repeating: 3, count: WireLimits.digestLength), spec: "AES_256", notBefore: m.f.now,
                notAfter: m.f.now.adding(seconds: 60)),
            sealed: [UInt8](repeating: 4, count: 60))
        let request = Envelope(
            id: 3,
            body: .sessionRequest(SessionRequest(ekt: ekt, requestID: 1, sealed: [UInt8](repeating: 5, count: 40))))
        var wiped = m.a
        wiped.wipe()
        var random = m.f.random
        for (core, expected) in [
            (HSMCore(), Failure(.wrongState, "this HSM is not a member of a domain")),
            (wiped, Failure(.wrongState, "this HSM has been wiped")),
        ] {
            var core = core
            #expect(core.handle(request, now: m.f.now, random: &random).answer.body == .failure(expected))
        }
    }

    @Test func onlyCommandsAndTokensToAnOperationalHSMAreVerifiedOutside() throws {
        var m = try TwoMembers()
        let fresh = HSMCore()
        let rotate = try m.rotation(on: m.a)
        #expect(fresh.preverification(for: .command(rotate), now: m.f.now) == nil)
        #expect(m.a.preverification(for: .command(rotate), now: m.f.now) != nil)
        #expect(m.a.preverification(for: .currentToken, now: m.f.now) == nil)
        #expect(m.a.preverification(for: .identify(challenge: [UInt8](repeating: 1, count: 16)), now: m.f.now) == nil)
        let current = try m.token(m.ask(\.a, .currentToken))
        #expect(m.a.preverification(for: .applyToken(current), now: m.f.now) == nil)
        var wiped = m.a
        wiped.wipe()
        #expect(wiped.preverification(for: .command(rotate), now: m.f.now) == nil)
    }
}
