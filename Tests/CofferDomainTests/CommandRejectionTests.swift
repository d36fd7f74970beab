import CofferCrypto
import CofferDomain
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// Every way PROTOCOL §5 refuses a command, each with its own typed error.
@Suite struct CommandRejectionTests {
    var f = DomainFixture()
    let hsm = HSMKeys.generate()
    let membership: DomainMembership

    init() throws {
        var fixture = DomainFixture()
        membership = try #require(try fixture.create(on: hsm).1.membership)
        f = fixture
    }

    private mutating func run(_ signed: SignedCommand, now: WireTime? = nil) -> DomainError.Code? {
        domainErrorCode {
            _ = try DomainEngine.execute(signed, membership: membership, hsm: hsm, now: now ?? f.now, random: &f.random)
        }
    }

    private mutating func rotate(by ids: [String] = ["alice", "bob"]) throws -> SignedCommand {
        try f.sign(f.command(.rotateKeys, base: membership.state), by: ids)
    }

    @Test mutating func aValidCommandIsAccepted() throws {
        #expect(run(try rotate()) == nil)
    }

    @Test mutating func wrongDomain() throws {
        let c = f.command(.rotateKeys, base: membership.state)
        let other = QuorumCommand(
            domainID: [UInt8](repeating: 9, count: 16), baseEpoch: c.baseEpoch, baseDigest: c.baseDigest,
            command: c.command, arguments: c.arguments, issuedAt: c.issuedAt, expiresAt: c.expiresAt, nonce: c.nonce)
        #expect(run(try f.sign(other, by: ["alice", "bob"])) == .wrongDomain)
    }

    @Test mutating func staleEpochAndStaleDigest() throws {
        let c = f.command(.rotateKeys, base: membership.state)
        let epoch = QuorumCommand(
            domainID: c.domainID, baseEpoch: 1, baseDigest: c.baseDigest, command: c.command,
            arguments: c.arguments, issuedAt: c.issuedAt, expiresAt: c.expiresAt, nonce: c.nonce)
        #expect(run(try f.sign(epoch, by: ["alice", "bob"])) == .staleBase)
        var digest = c.baseDigest
        digest[0] ^= 1
        let stale = QuorumCommand(
            domainID: c.domainID, baseEpoch: 0, baseDigest: digest, command: c.command,
            arguments: c.arguments, issuedAt: c.issuedAt, expiresAt: c.expiresAt, nonce: c.nonce)
        #expect(run(try f.sign(stale, by: ["alice", "bob"])) == .staleBase)
    }

    @Test mutating func timeWindow() throws {
        let signed = try rotate()
        #expect(run(signed, now: f.now.adding(seconds: -300)) == nil)  // within clockSkew
        #expect(run(signed, now: f.now.adding(seconds: -301)) == .timeWindow)  // issued in the future
        #expect(run(signed, now: f.now.adding(seconds: 3600)) == nil)  // at expiresAt
        #expect(run(signed, now: f.now.adding(seconds: 3601)) == .timeWindow)  // expired
        let tooLong = try f.sign(
            f.command(.rotateKeys, base: membership.state, lifetime: 86_401), by: ["alice", "bob"])
        #expect(run(tooLong) == .timeWindow)  // valid longer than commandMaxAge
        let exactly = try f.sign(
            f.command(.rotateKeys, base: membership.state, lifetime: 86_400), by: ["alice", "bob"])
        #expect(run(exactly) == nil)
    }

    @Test mutating func unknownOperator() throws {
        let c = f.command(.rotateKeys, base: membership.state)
        let mallory = try CommandBuilder.approve(c, as: "mallory", key: P384.Signing.PrivateKey())
        let signed = SignedCommand(command: c, approvals: (try f.sign(c, by: ["alice", "bob"])).approvals + [mallory])
        #expect(run(signed) == .unknownOperator)
    }

    @Test mutating func oneBadSignatureRefusesTheWholeCommand() throws {
        let c = f.command(.rotateKeys, base: membership.state)
        // carol's name, another key.
        let forged = try CommandBuilder.approve(c, as: "carol", key: P384.Signing.PrivateKey())
        let signed = SignedCommand(command: c, approvals: (try f.sign(c, by: ["alice", "bob"])).approvals + [forged])
        #expect(run(signed) == .badSignature)
        // A signature over another command does not count either.
        let other = f.command(.rotateKeys, base: membership.state)
        let moved = SignedCommand(command: c, approvals: (try f.sign(other, by: ["alice", "bob"])).approvals)
        #expect(run(moved) == .badSignature)
    }

    @Test mutating func quorumNotMet() throws {
        #expect(run(try rotate(by: ["alice"])) == .quorumNotMet)
        #expect(run(try rotate(by: [])) == .quorumNotMet)
        #expect(run(try rotate(by: ["carol"])) == .quorumNotMet)  // admin + auditor, but one person
        #expect(run(try rotate(by: ["alice", "carol"])) == nil)  // admin + auditor
    }

    @Test mutating func noRule() throws {
        // Drop the rule for domain.leave, then try to leave.
        let rules = DomainFixture.rules.filter { $0.command != DomainCommand.leave }
        let (_, changed) = try f.execute(.modifyRules(rules), on: hsm, membership)
        let state = try #require(changed.membership)
        let leave = try f.sign(f.command(.leave(hsmID: hsm.hsmID), base: state.state), by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(leave, membership: state, hsm: hsm, now: f.now, random: &f.random)
            } == .noRule)
        // A command name §5 does not define has no rule either.
        let unknown = QuorumCommand(
            domainID: state.state.domainID, baseEpoch: state.state.epoch, baseDigest: state.state.digest,
            command: "domain.reboot", arguments: [0x30, 0x00], issuedAt: f.now,
            expiresAt: f.now.adding(seconds: 60), nonce: [UInt8](repeating: 0, count: 16))
        let signed = try f.sign(unknown, by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(signed, membership: state, hsm: hsm, now: f.now, random: &f.random)
            } == .noRule)
    }

    @Test mutating func malformedArguments() throws {
        let c = f.command(.rotateKeys, base: membership.state)
        let bad = QuorumCommand(
            domainID: c.domainID, baseEpoch: c.baseEpoch, baseDigest: c.baseDigest, command: c.command,
            arguments: [0x30, 0x01, 0x00], issuedAt: c.issuedAt, expiresAt: c.expiresAt, nonce: c.nonce)
        #expect(run(try f.sign(bad, by: ["alice", "bob"])) == .malformed)
    }

    @Test mutating func wrongState() throws {
        var other = DomainFixture()
        let (create, _) = try other.create(on: hsm)
        #expect(run(create) == .wrongState)  // create on an operational HSM
        let rotate = try rotate()
        let fresh = HSMKeys.generate()
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(rotate, membership: nil, hsm: fresh, now: f.now, random: &f.random)
            } == .wrongState)
    }

    @Test mutating func invariantsRefuseRulesNobodyCanMeetAndLockingOutModifyRules() throws {
        var unmeetable = DomainFixture.rules
        unmeetable[0] = CommandRule(
            command: unmeetable[0].command, alternatives: [Rule([Requirement(role: "admin", minimum: 4)])])
        #expect(
            run(try f.sign(f.command(.modifyRules(unmeetable), base: membership.state), by: ["alice", "bob"]))
                == .invalidArgument)
        let noModifyRules = DomainFixture.rules.filter { $0.command != DomainCommand.modifyRules }
        #expect(
            run(try f.sign(f.command(.modifyRules(noModifyRules), base: membership.state), by: ["alice", "bob"]))
                == .invalidArgument)
        let createRule =
            DomainFixture.rules + [
                CommandRule(
                    command: DomainCommand.create, alternatives: [Rule([Requirement(role: "admin", minimum: 1)])])
            ]
        #expect(
            run(
                try f.sign(
                    f.command(.modifyRules(createRule.sortedByUTF8(\.command)), base: membership.state),
                    by: ["alice", "bob"])) == .invalidArgument)
        // Removing two of three admins leaves nobody able to meet admin ≥ 2: refused.
        #expect(
            run(
                try f.sign(
                    f.command(.modifyOperators(upsert: [], remove: ["alice", "bob"]), base: membership.state),
                    by: ["alice", "bob"])) == .invalidArgument)
        // An operator reusing another's key is refused.
        let clone = Operator(
            id: "dave", signingKey: P384PublicKey(try #require(f.operators["alice"]).key.publicKey), roles: [])
        #expect(
            run(
                try f.sign(
                    f.command(.modifyOperators(upsert: [clone], remove: []), base: membership.state),
                    by: ["alice", "bob"])) == .invalidArgument)
    }

    @Test mutating func invalidMembershipAndHostChanges() throws {
        #expect(
            run(
                try f.sign(
                    f.command(.modifyHosts(add: [], remove: ["nobody"]), base: membership.state), by: ["alice", "bob"]))
                == .invalidArgument)
        #expect(
            run(
                try f.sign(
                    f.command(.modifyMembers(add: [], remove: [hsm.hsmID]), base: membership.state),
                    by: ["alice", "bob"])) == .invalidArgument)
        let operational = try HSMKeys.generate().signedIdentity(
            challenge: [UInt8](repeating: 0, count: 16), domain: ([UInt8](repeating: 1, count: 16), 3))
        #expect(
            run(
                try f.sign(
                    f.command(
                        .modifyMembers(add: [MemberAddition(identity: operational, kind: .online)], remove: []),
                        base: membership.state), by: ["alice", "bob"])) == .invalidArgument)
        let genuine = try HSMKeys.generate().signedIdentity(challenge: [UInt8](repeating: 0, count: 16))
        let unsigned = SignedIdentity(
            identity: genuine.identity, signature: try hsm.sign(genuine.identity.derBytes, label: .hsmIdentity))
        #expect(
            run(
                try f.sign(
                    f.command(
                        .modifyMembers(add: [MemberAddition(identity: unsigned, kind: .online)], remove: []),
                        base: membership.state), by: ["alice", "bob"])) == .badSignature)
        let host = Host(id: "h", signingKey: HSMKeys.generate().signingPublicKey)
        let (_, withHost) = try f.execute(.modifyHosts(add: [host], remove: []), on: hsm, membership)
        let state = try #require(withHost.membership)
        let again = try f.sign(
            f.command(.modifyHosts(add: [host], remove: []), base: state.state), by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(again, membership: state, hsm: hsm, now: f.now, random: &f.random)
            } == .invalidArgument)
    }

    @Test func createNeedsEveryOperatorAndTheExecutingHSM() throws {
        var f = DomainFixture()
        let hsm = HSMKeys.generate()
        let create = DomainCreate(
            name: "x", operators: f.operators.values.map(\.record),
            member: MemberAddition(identity: try f.identity(of: hsm), kind: .online),
            hosts: [], rules: DomainFixture.rules, parameters: .defaults)
        let command = f.command(.create(create), base: nil)
        let twoOfThree = try f.sign(command, by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(twoOfThree, membership: nil, hsm: hsm, now: f.now, random: &f.random)
            } == .quorumNotMet)
        let all = try f.sign(command, by: ["alice", "bob", "carol"])
        let elsewhere = HSMKeys.generate()
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(all, membership: nil, hsm: elsewhere, now: f.now, random: &f.random)
            } == .invalidArgument)
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(
                    all, membership: nil, hsm: hsm, now: f.now.adding(seconds: 86_401), random: &f.random)
            } == .timeWindow)
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(all, membership: nil, hsm: hsm, now: f.now, random: &f.random)
            } == nil)
    }
}
