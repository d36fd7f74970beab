import CofferCrypto
import CofferDomain
import CofferHSM
import CofferWire
import Crypto
import Testing

/// The HSM state machine in memory: what it answers in each state, and how it moves between them.
@Suite struct HSMCoreTests {
    let now = WireTime(generalizedTime: Array("20260101000000Z".utf8))!
    var random = SeededRandom(seed: "hsm core")

    private mutating func ask(_ core: inout HSMCore, _ body: Envelope.Body, id: Int64 = 7) -> Envelope {
        core.handle(Envelope(id: id, body: body), now: now, random: &random).answer
    }

    @Test mutating func identifyEchoesTheChallengeAndSignsTheIdentity() throws {
        let keys = HSMKeys.generate()
        var core = HSMCore(keys: keys)
        let challenge = [UInt8](repeating: 0x5a, count: 16)
        let answer = ask(&core, .identify(challenge: challenge))
        #expect(answer.id == 7)
        guard case .identity(let signed) = answer.body else {
            Issue.record("expected an identity")
            return
        }
        #expect(signed.identity.challenge == challenge)
        #expect(signed.identity.state == .uninitialized)
        #expect(signed.isSelfSigned)
        #expect(signed.identity.hsmID == keys.hsmID)
        #expect(signed.identity.signingKey.fingerprint == signed.identity.hsmID)
    }

    @Test mutating func identifyOutsideTheLockAnswersAsTheCoreDoes() throws {
        // The server signs identify answers outside its lock from `identitySource`: same checks, same answer.
        let keys = HSMKeys.generate()
        var core = HSMCore(keys: keys)
        let challenge = [UInt8](repeating: 0x33, count: 16)
        let outside = HSMCore.identify(
            Envelope(id: 9, body: .identify(challenge: challenge)), source: core.identitySource)
        guard case .identity(let signed) = outside.body,
            case .identity(let inside) = ask(&core, .identify(challenge: challenge), id: 9).body
        else {
            Issue.record("expected identities")
            return
        }
        #expect(outside.id == 9)
        #expect(signed.identity == inside.identity)
        #expect(signed.isSelfSigned)
        let reserved = HSMCore.identify(
            Envelope(id: 0, body: .identify(challenge: challenge)), source: core.identitySource)
        guard case .failure(let failure) = reserved.body else {
            Issue.record("id 0 must be refused")
            return
        }
        #expect(failure.code == .malformed)
        core.wipe()
        #expect(core.identitySource == nil)
        guard
            case .failure(let wiped) = HSMCore.identify(
                Envelope(id: 3, body: .identify(challenge: challenge)), source: nil
            ).body
        else {
            Issue.record("a wiped HSM answers no identity")
            return
        }
        #expect(wiped.code == .wrongState)
    }

    @Test mutating func answerKindsAndReservedIdsAreMalformed() {
        var core = HSMCore()
        for body: Envelope.Body in [
            .failure(Failure(.internal, "x")), .sessionResponse(SessionResponse(requestID: 1, sealed: [])),
        ] {
            guard case .failure(let failure) = ask(&core, body).body else {
                Issue.record("an answer kind must be refused")
                continue
            }
            #expect(failure.code == .malformed)
        }
        let zero = ask(&core, .currentToken, id: 0)
        #expect(zero.id == 0)
        guard case .failure(let failure) = zero.body else {
            Issue.record("id 0 must be refused")
            return
        }
        #expect(failure.code == .malformed)
    }

    @Test mutating func anUninitializedHSMHasNoTokenAndAppliesNone() {
        var core = HSMCore()
        guard case .failure(let failure) = ask(&core, .currentToken).body else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.code == .wrongState)
    }

    @Test mutating func createMakesItOperationalAndTheLastOnlineMemberCannotLeave() throws {
        let keys = HSMKeys.generate()
        var core = HSMCore(keys: keys)
        let alice = P384.Signing.PrivateKey()
        let rules = [DomainCommand.modifyRules, DomainCommand.leave, DomainCommand.join].map {
            CommandRule(command: $0, alternatives: [Rule([Requirement(role: "admin", minimum: 1)])])
        }.sortedByUTF8(\.command)
        let create = DomainCreate(
            name: "core",
            operators: [Operator(id: "alice", signingKey: P384PublicKey(alice.publicKey), roles: ["admin"])],
            member: MemberAddition(
                identity: try keys.signedIdentity(challenge: [UInt8](repeating: 0, count: 16)), kind: .online),
            hosts: [], rules: rules, parameters: .defaults)
        let command = CommandBuilder.command(.create(create), base: nil, issuedAt: now, random: &random)
        let signed = SignedCommand(
            command: command, approvals: [try CommandBuilder.approve(command, as: "alice", key: alice)])
        guard case .token(let token) = ask(&core, .command(signed)).body else {
            Issue.record("create must succeed")
            return
        }
        #expect(core.domainState == token.state)
        guard case .token(let current) = ask(&core, .currentToken).body else {
            Issue.record("an operational HSM answers currentToken")
            return
        }
        #expect(current == token)
        guard case .identity(let identity) = ask(&core, .identify(challenge: [UInt8](repeating: 1, count: 16))).body
        else {
            Issue.record("identity")
            return
        }
        #expect(identity.identity.state == .operational)
        #expect(identity.identity.epoch == 0)
        #expect(identity.identity.domainID == token.state.domainID)

        // A lone member cannot leave (no online member would remain): invalidArgument, still operational.
        let leave = CommandBuilder.command(.leave(hsmID: keys.hsmID), base: token.state, issuedAt: now, random: &random)
        let signedLeave = SignedCommand(
            command: leave, approvals: [try CommandBuilder.approve(leave, as: "alice", key: alice)])
        guard case .failure(let failure) = ask(&core, .command(signedLeave)).body else {
            Issue.record("the last online member cannot leave")
            return
        }
        #expect(failure.code == .invalidArgument)
        #expect(core.hsmID == keys.hsmID)
    }

    @Test mutating func aWipedHSMAnswersNothingButWrongState() {
        var core = HSMCore()
        core.wipe()
        #expect(core.hsmID == nil)
        guard case .failure(let failure) = ask(&core, .identify(challenge: [UInt8](repeating: 0, count: 16))).body
        else {
            Issue.record("a wiped HSM refuses")
            return
        }
        #expect(failure.code == .wrongState)
    }
}
