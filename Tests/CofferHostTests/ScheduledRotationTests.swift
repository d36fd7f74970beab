import CofferCrypto
import CofferDomain
import CofferHost
import CofferKMS
import CofferTestSupport
import CofferWire
import Crypto
import Logging
import Testing

/// The host's scheduled domain-key rotation: when operators pre-authorize it by a rule (the host's key
/// registered as an operator that meets the `domain.rotateKeys` rule alone), when it is due, and that it
/// waits while a key it would drop still seals a stored token. States are made by the real domain engine;
/// the rotation the host signs is executed by it too.
@Suite struct ScheduledRotationTests {
    static let role = "scheduled-rotation"
    static let interval: Int64 = 86_400

    /// A one-HSM domain (retention 2) with host `host-1`, whose key is also registered as operator
    /// `host-1` with `role`; `authorize` adds the alternative that lets that role rotate alone.
    struct Domain {
        var fixture = DomainFixture(seed: "scheduled rotation \(UInt64.random(in: 0...UInt64.max))")
        let hsm = HSMKeys.generate()
        let hostKey = P384.Signing.PrivateKey()
        var membership: DomainMembership

        init(authorize: Bool) throws {
            let (_, genesis) = try fixture.create(on: hsm, retention: 2)
            membership = try #require(genesis.membership)
            try execute(
                .modifyHosts(add: [Host(id: "host-1", signingKey: P384PublicKey(hostKey.publicKey))], remove: []))
            let hostOperator = Operator(
                id: "host-1", signingKey: P384PublicKey(hostKey.publicKey), roles: [ScheduledRotationTests.role])
            try execute(.modifyOperators(upsert: [hostOperator], remove: []))
            guard authorize else { return }
            try execute(.modifyRules(Self.authorizedRules))
        }

        /// The rules with `rotateKeys` also met by `role` alone.
        static var authorizedRules: [CommandRule] {
            DomainFixture.rules.map { rule in
                rule.command != DomainCommand.rotateKeys
                    ? rule
                    : CommandRule(
                        command: rule.command,
                        alternatives: rule.alternatives + [
                            Rule([Requirement(role: ScheduledRotationTests.role, minimum: 1)])
                        ])
            }
        }

        mutating func execute(_ arguments: CommandArguments) throws {
            let (_, outcome) = try fixture.execute(arguments, on: hsm, membership)
            membership = try #require(outcome.membership)
        }

        var state: DomainState { membership.state }
        var created: Int64 { state.activeKey?.created.secondsSinceEpoch ?? 0 }

        /// Executes what the host submits, as the HSM would, its clock at the command's issue time.
        mutating func submit(_ signed: SignedCommand, to executor: String) throws -> DomainToken {
            #expect(executor == hsm.hsmID)
            let outcome = try DomainEngine.execute(
                signed, membership: membership, hsm: hsm, now: signed.command.issuedAt, random: &fixture.random)
            membership = try #require(outcome.membership)
            return outcome.token
        }
    }

    @Test func aRotationIsDueOnlyWhenARuleLetsTheHostRotateAlone() throws {
        let notAuthorized = try Domain(authorize: false)
        let schedule = RotationSchedule(
            interval: Self.interval, hostKey: P384PublicKey(notAuthorized.hostKey.publicKey))
        guard case .off = schedule.plan(state: notAuthorized.state, now: notAuthorized.created + Self.interval) else {
            Issue.record("an operator whose role meets no alternative alone does not rotate")
            return
        }
        let stranger = RotationSchedule(
            interval: Self.interval, hostKey: P384PublicKey(P384.Signing.PrivateKey().publicKey))
        guard case .off = stranger.plan(state: notAuthorized.state, now: .max) else {
            Issue.record("a host that is no operator does not rotate")
            return
        }
        let domain = try Domain(authorize: true)
        let host = RotationSchedule(interval: Self.interval, hostKey: P384PublicKey(domain.hostKey.publicKey))
        #expect(host.plan(state: domain.state, now: domain.created) == .notDue(until: domain.created + Self.interval))
        #expect(
            host.plan(state: domain.state, now: domain.created + Self.interval)
                == .due(signer: "host-1", executor: domain.hsm.hsmID, drops: []))
        let off = RotationSchedule(interval: 0, hostKey: P384PublicKey(domain.hostKey.publicKey))
        guard case .off = off.plan(state: domain.state, now: .max) else {
            Issue.record("interval 0 turns scheduling off")
            return
        }
    }

    @Test func aRotationDropsTheOldestKeyOnlyOnceNoStoredTokenNeedsIt() async throws {
        var domain = try Domain(authorize: true)
        let rotation = ScheduledRotation(
            interval: Self.interval, hostKey: domain.hostKey, logger: Logger(label: "test"))
        let now = domain.created + Self.interval
        // First rotation: two keys after it (retention 2), nothing dropped, no census needed.
        let box = Box(domain)
        let first = await rotation.runIfDue(
            state: domain.state, now: now, membersInStep: true, clock: { now }, census: { throw FixtureError() },
            submit: { try box.submit($0, $1) })
        domain = box.domain
        #expect(first == .rotated(epoch: domain.state.epoch))
        #expect(domain.state.domainKeys.count == 2)
        let oldest = try #require(domain.state.domainKeys.last).keyID

        // The next would drop the oldest key: it waits while a stored token is still sealed under it.
        var census = TokenCensus()
        census.byDomainKey[Hex.encode(oldest)] = 3
        census.byDomainKey[Hex.encode(try #require(domain.state.activeKey).keyID)] = 10
        let stillNeeded = census
        let waiting = await rotation.runIfDue(
            state: domain.state, now: now + Self.interval, membersInStep: true, clock: { now + Self.interval },
            census: { stillNeeded },
            submit: { _, _ in
                Issue.record("no rotation while the oldest key seals a stored token")
                throw FixtureError()
            })
        #expect(waiting == .waiting(tokens: 3))

        // Once the re-wrap job has moved them, it rotates and the oldest key is gone.
        census.byDomainKey[Hex.encode(oldest)] = nil
        let moved = census
        let epoch = domain.state.epoch
        let rotated = await rotation.runIfDue(
            state: domain.state, now: now + Self.interval, membersInStep: true, clock: { now + Self.interval },
            census: { moved },
            submit: { try box.submit($0, $1) })
        domain = box.domain
        #expect(rotated == .rotated(epoch: epoch + 1))
        #expect(!domain.state.domainKeys.contains { $0.keyID == oldest })
    }

    @Test func aRefusedSubmissionIsReportedAndTriedAgainLater() async throws {
        let domain = try Domain(authorize: true)
        let rotation = ScheduledRotation(
            interval: Self.interval, hostKey: domain.hostKey, logger: Logger(label: "test"))
        let outcome = await rotation.runIfDue(
            state: domain.state, now: domain.created + Self.interval, membersInStep: true, census: { TokenCensus() },
            submit: { _, _ in throw FixtureError() })  // as when another host rotated first (staleBase)
        guard case .failed = outcome else {
            Issue.record("a refusal is a failed round, not a crash or a silent success")
            return
        }
    }

    @Test func aHostMayRotateOnlyAsAHostWhoseRoleCountsForNothingElseAndWithARetentionAboveOne() throws {
        var domain = try Domain(authorize: true)
        let host = RotationSchedule(interval: Self.interval, hostKey: P384PublicKey(domain.hostKey.publicKey))
        let due = domain.created + Self.interval
        // The role also counts for modifyHosts: the host key could do more than rotate.
        var rules = Domain.authorizedRules.map { rule in
            rule.command != DomainCommand.modifyHosts
                ? rule
                : CommandRule(
                    command: rule.command,
                    alternatives: rule.alternatives + [Rule([Requirement(role: Self.role, minimum: 1)])])
        }
        try domain.execute(.modifyRules(rules))
        guard case .off(let why) = host.plan(state: domain.state, now: due) else {
            Issue.record("a rotating role that counts for another command turns scheduling off")
            return
        }
        #expect(why.contains("domain.modifyHosts"))
        rules = Domain.authorizedRules
        try domain.execute(.modifyRules(rules))
        guard case .due = host.plan(state: domain.state, now: due) else {
            Issue.record("with the role back in the rotateKeys rule only, the host rotates")
            return
        }
        // A retention of 1 would drop the active key with every rotation.
        try domain.execute(
            .modifyParameters(
                Parameters(sessionLifetime: 3600, domainKeyRetention: 1, commandMaxAge: 86_400, clockSkew: 300)))
        guard case .off = host.plan(state: domain.state, now: due) else {
            Issue.record("retention 1 turns scheduling off")
            return
        }
        try domain.execute(
            .modifyParameters(
                Parameters(sessionLifetime: 3600, domainKeyRetention: 2, commandMaxAge: 86_400, clockSkew: 300)))
        // Removed as a host, the key keeps no power even though it is still an operator.
        try domain.execute(.modifyHosts(add: [], remove: ["host-1"]))
        guard case .off = host.plan(state: domain.state, now: due) else {
            Issue.record("a key that is no longer a host's does not rotate")
            return
        }
    }

    @Test func onlyThePreauthorizedHostWithTheLowestIDRotates() throws {
        var domain = try Domain(authorize: true)
        let other = P384.Signing.PrivateKey()
        try domain.execute(
            .modifyHosts(add: [Host(id: "host-0", signingKey: P384PublicKey(other.publicKey))], remove: []))
        let host1 = RotationSchedule(interval: Self.interval, hostKey: P384PublicKey(domain.hostKey.publicKey))
        let due = domain.created + Self.interval
        guard case .due = host1.plan(state: domain.state, now: due) else {
            Issue.record("host-0 may not rotate yet: host-1 does")
            return
        }
        try domain.execute(
            .modifyOperators(
                upsert: [Operator(id: "host-0", signingKey: P384PublicKey(other.publicKey), roles: [Self.role])],
                remove: []))
        guard case .off(let why) = host1.plan(state: domain.state, now: due) else {
            Issue.record("two pre-authorized hosts: only one rotates, or the domain could fork")
            return
        }
        #expect(why.contains("host-0"))
        let host0 = RotationSchedule(interval: Self.interval, hostKey: P384PublicKey(other.publicKey))
        guard case .due = host0.plan(state: domain.state, now: due) else {
            Issue.record("the lowest id rotates")
            return
        }
    }

    @Test func aDueRotationWaitsForMembersBehind() async throws {
        let domain = try Domain(authorize: true)
        let rotation = ScheduledRotation(
            interval: Self.interval, hostKey: domain.hostKey, logger: Logger(label: "test"))
        let outcome = await rotation.runIfDue(
            state: domain.state, now: domain.created + Self.interval, membersInStep: false,
            census: { TokenCensus() },
            submit: { _, _ in
                Issue.record("no rotation while a member is behind")
                throw FixtureError()
            })
        #expect(outcome == .waitingForMembers)
    }

    /// Hands the domain to `submit` closures, which run one at a time in these tests.
    final class Box: @unchecked Sendable {  // touched by one test task at a time
        var domain: Domain
        init(_ domain: Domain) { self.domain = domain }
        func submit(_ signed: SignedCommand, _ executor: String) throws -> DomainToken {
            try domain.submit(signed, to: executor)
        }
    }
}
