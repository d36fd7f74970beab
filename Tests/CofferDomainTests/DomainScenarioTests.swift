import CofferCrypto
import CofferDomain
import CofferTestSupport
import CofferWire
import Testing

/// The acceptance scenario of the domain issue, in code: three operators (admin ≥ 2; rotateKeys also by
/// admin + auditor), genesis signed by all three, add a host, add a second HSM, rotate the domain keys
/// twice with retention 2, remove an operator. At every step the chain verifies from the genesis
/// digest and every member opens the keys; replayed, expired and removed-operator commands are refused.
@Suite struct DomainScenarioTests {
    @Test func fullDomainLifecycle() throws {
        var f = DomainFixture()
        let hsmA = HSMKeys.generate()
        let hsmB = HSMKeys.generate()
        var tokens: [DomainToken] = []

        // Genesis on A.
        let (_, genesis) = try f.create(on: hsmA)
        var a = try #require(genesis.membership)
        tokens.append(genesis.token)
        let genesisDigest = genesis.token.state.digest
        func checkChain(_ members: [(HSMKeys, DomainMembership)]) throws {
            let states = try TokenVerifier.verifyChain(tokens, genesisDigest: genesisDigest)
            #expect(states.last == tokens.last?.state)
            for (hsm, membership) in members {
                #expect(membership.state == tokens.last?.state)
                #expect(try DomainTokenSealer.open(try #require(tokens.last), as: hsm) == membership.keys)
            }
        }
        try checkChain([(hsmA, a)])
        #expect(a.state.epoch == 0 && a.keys.count == 1)

        // Add a host.
        let host = HSMKeys.generate().signingPublicKey
        let (hostCommand, added) = try f.execute(
            .modifyHosts(add: [Host(id: "host-1", signingKey: host)], remove: []), on: hsmA, a)
        a = try #require(added.membership)
        tokens.append(added.token)
        try checkChain([(hsmA, a)])
        #expect(a.state.hosts.map(\.id) == ["host-1"])

        // A replayed command is refused (its base is gone).
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(hostCommand, membership: a, hsm: hsmA, now: f.now, random: &f.random)
            } == .staleBase)

        // Add HSM B, then B joins with the token that lists it.
        let (_, withB) = try f.execute(
            .modifyMembers(add: [MemberAddition(identity: try f.identity(of: hsmB), kind: .online)], remove: []),
            on: hsmA, a)
        a = try #require(withB.membership)
        tokens.append(withB.token)
        let join = try f.sign(f.command(.join(withB.token), base: nil), by: ["alice", "carol"])
        let joined = try DomainEngine.execute(join, membership: nil, hsm: hsmB, now: f.now, random: &f.random)
        var b = try #require(joined.membership)
        #expect(joined.token == withB.token)
        try checkChain([(hsmA, a), (hsmB, b)])

        // Rotate twice with retention 2: the first key is dropped, both members follow by applying tokens.
        let firstKey = a.keys[0].keyID
        for round in 1...2 {
            f.now = f.now.adding(seconds: 60)
            let signers = round == 1 ? ["alice", "carol"] : ["bob", "carol"]
            let (_, rotated) = try f.execute(.rotateKeys, on: hsmA, a, by: signers)
            a = try #require(rotated.membership)
            tokens.append(rotated.token)
            guard case .updated(let updated) = try DomainEngine.apply(rotated.token, to: b, hsm: hsmB) else {
                Issue.record("B must follow the rotation")
                return
            }
            b = updated
            try checkChain([(hsmA, a), (hsmB, b)])
        }
        #expect(a.keys.count == 2)
        #expect(!a.keys.contains { $0.keyID == firstKey })
        #expect(a.state.domainKeys.map(\.keyID) == a.keys.map(\.keyID))

        // Remove carol; B executes this one and A applies it.
        let (_, removed) = try f.execute(.modifyOperators(upsert: [], remove: ["carol"]), on: hsmB, b)
        b = try #require(removed.membership)
        tokens.append(removed.token)
        guard case .updated(let updatedA) = try DomainEngine.apply(removed.token, to: a, hsm: hsmA) else {
            Issue.record("A must follow")
            return
        }
        a = updatedA
        try checkChain([(hsmA, a), (hsmB, b)])
        #expect(a.state.operators.map(\.id) == ["alice", "bob"])

        // A command signed by the removed operator is refused.
        let byCarol = try f.sign(f.command(.rotateKeys, base: a.state), by: ["alice", "carol"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(byCarol, membership: a, hsm: hsmA, now: f.now, random: &f.random)
            } == .unknownOperator)

        // An expired command is refused.
        let expiring = try f.sign(f.command(.rotateKeys, base: a.state, lifetime: 60), by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(
                    expiring, membership: a, hsm: hsmA, now: f.now.adding(seconds: 61), random: &f.random)
            } == .timeWindow)

        // A token applied twice, or out of order, is refused.
        #expect(domainErrorCode { _ = try DomainEngine.apply(removed.token, to: a, hsm: hsmA) } == .staleBase)
        print("domain scenario: \(tokens.count) tokens, chain verified from genesis at every step")
        #expect(tokens.count == 6)
    }

    /// A domain created on A, with B added and joined.
    private func twoMembers() throws -> (DomainFixture, HSMKeys, HSMKeys, DomainMembership, DomainMembership) {
        var f = DomainFixture()
        let hsmA = HSMKeys.generate()
        let hsmB = HSMKeys.generate()
        var a = try #require(try f.create(on: hsmA).1.membership)
        let (_, withB) = try f.execute(
            .modifyMembers(add: [MemberAddition(identity: try f.identity(of: hsmB), kind: .online)], remove: []),
            on: hsmA, a)
        a = try #require(withB.membership)
        let join = try f.sign(f.command(.join(withB.token), base: nil), by: ["alice", "bob"])
        let b = try #require(
            try DomainEngine.execute(join, membership: nil, hsm: hsmB, now: f.now, random: &f.random).membership)
        return (f, hsmA, hsmB, a, b)
    }

    @Test func leaveRemovesTheExecutingHSMAndTheOthersApplyIt() throws {
        var (f, hsmA, hsmB, a, b) = try twoMembers()

        // B cannot execute A's leave.
        let leaveA = try f.sign(f.command(.leave(hsmID: hsmA.hsmID), base: a.state), by: ["alice", "bob"])
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(leaveA, membership: b, hsm: hsmB, now: f.now, random: &f.random)
            } == .invalidArgument)

        let left = try DomainEngine.execute(leaveA, membership: a, hsm: hsmA, now: f.now, random: &f.random)
        #expect(left.membership == nil)
        #expect(left.token.state.members.map(\.hsmID) == [hsmB.hsmID])
        #expect(left.token.keys.recipients.map(\.hsmID) == [hsmB.hsmID])
        guard case .updated(let after) = try DomainEngine.apply(left.token, to: b, hsm: hsmB) else {
            Issue.record("B must stay")
            return
        }
        #expect(after.keys == b.keys)
    }

    @Test func aMemberRemovedByModifyMembersSeesItselfRemoved() throws {
        var (f, hsmA, hsmB, a, b) = try twoMembers()
        let (_, removed) = try f.execute(.modifyMembers(add: [], remove: [hsmB.hsmID]), on: hsmA, a)
        guard case .removed = try DomainEngine.apply(removed.token, to: b, hsm: hsmB) else {
            Issue.record("B must see itself removed")
            return
        }
        #expect(domainErrorCode { _ = try DomainTokenSealer.open(removed.token, as: hsmB) } == .authenticationFailed)
    }
}
