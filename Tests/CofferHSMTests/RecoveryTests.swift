import CofferCrypto
import CofferDomain
import CofferHSM
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Testing

/// `domain.recover` in the HSM state machine (docs/protocol.md, "Recovery"): a domain with a recovery
/// member of three custodians (threshold 2) loses its HSMs; a new HSM recovers it with two resealed shares
/// and an operator quorum. Every way the request can be wrong is refused with its own code, and the HSM
/// stays uninitialized.
@Suite struct RecoveryTests {
    /// A domain (genesis on A, a recovery member added, keys rotated once) and the pieces of a recovery.
    struct World {
        var f = DomainFixture(seed: "recovery")
        let hsmA = HSMKeys.generate()
        let custodians = (0..<3).map { _ in P384.KeyAgreement.PrivateKey() }
        let kit: RecoveryKit
        var chain: [DomainToken] = []
        var membership: DomainMembership

        init() throws {
            var f = DomainFixture(seed: "recovery")
            kit = try RecoveryKit.create(
                custodians: custodians.map { P384PublicKey($0.publicKey) }, threshold: 2, random: &f.random)
            let (_, genesis) = try f.create(on: hsmA, retention: 3)
            var a = try #require(genesis.membership)
            chain.append(genesis.token)
            let (_, added) = try f.execute(.modifyMembers(add: [kit.member], remove: []), on: hsmA, a)
            a = try #require(added.membership)
            chain.append(added.token)
            let (_, rotated) = try f.execute(.rotateKeys, on: hsmA, a)
            a = try #require(rotated.membership)
            chain.append(rotated.token)
            membership = a
            self.f = f
        }

        var genesisDigest: [UInt8] { chain[0].state.digest }

        /// Custodian `x` reseals share `x` to `hsm`, for the domain.recover naming it on `base` (by default
        /// the newest state).
        mutating func reseal(_ x: Int, to hsm: HSMKeys, base: DomainState? = nil) throws -> SealedShare {
            let state = base ?? membership.state
            return try RecoveryShares.reseal(
                kit.shares[x - 1], custodian: custodians[x - 1], command: try command(for: hsm, base: state),
                state: state, now: f.now, random: &f.random)
        }

        /// What a dishonest custodian or an attacker sends: share `x` of `kit` (or other bytes `y`) sealed to
        /// `hsm` with no check at all.
        mutating func forge(_ x: Int, of kit: RecoveryKit, to hsm: HSMKeys, y: SecretBytes? = nil) throws -> SealedShare
        {
            let share = kit.shares[x - 1]
            let opened = try y ?? RecoveryShares.open(share, with: custodians[x - 1])
            return try RecoveryShares.seal(
                opened, header: share.header.resealed(to: hsm.agreementPublicKey), random: &f.random)
        }

        /// `domain.recover` for `hsm` on `base`, signed by `signers`.
        mutating func command(
            for hsm: HSMKeys, base: DomainState? = nil, anchor: [UInt8]? = nil, by signers: [String] = ["alice", "bob"]
        ) throws -> SignedCommand {
            let arguments = CommandArguments.recover(
                DomainRecover(anchor: anchor ?? genesisDigest, member: try f.identity(of: hsm)))
            return try f.sign(f.command(arguments, base: base ?? membership.state), by: signers)
        }

        /// Sends `request` to an uninitialized HSM with `keys`; returns its answer and whether it is still
        /// uninitialized.
        mutating func send(_ request: RecoverRequest, to keys: HSMKeys) -> (Envelope.Body, HSMCore) {
            var core = HSMCore(keys: keys)
            let answer = core.handle(Envelope(id: 1, body: .recover(request)), now: f.now, random: &f.random).answer
            return (answer.body, core)
        }
    }

    @Test func aNewHSMRecoversTheDomainFromTwoSharesAndAQuorum() throws {
        var w = try World()
        let hsmN = HSMKeys.generate()
        let shares = [try w.reseal(1, to: hsmN), try w.reseal(3, to: hsmN)]
        let request = RecoverRequest(command: try w.command(for: hsmN), chain: w.chain, shares: shares)
        let (answer, core) = w.send(request, to: hsmN)
        guard case .token(let token) = answer else {
            Issue.record("expected a token, got \(answer)")
            return
        }
        let state = try #require(core.domainState)
        #expect(state == token.state)
        #expect(state.epoch == w.membership.state.epoch + 1)
        #expect(state.domainKeys == w.membership.state.domainKeys)
        #expect(state.members.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.online, .recovery])
        #expect(state.members.contains { hsmN.isMember($0) && $0.kind == .online })
        #expect(!state.members.contains { $0.hsmID == w.hsmA.hsmID })
        #expect(token.exporter == hsmN.hsmID)
        #expect(token.authorization.derBytes.count < 2_000, "the token carries neither the chain nor the shares")
        // The new HSM holds the same domain keys; the chain verifies from the genesis with the recovery in it.
        #expect(try DomainTokenSealer.open(token, as: hsmN) == w.membership.keys)
        let states = try TokenVerifier.verifyChain(w.chain + [token], genesisDigest: w.genesisDigest)
        #expect(states.last == token.state)
        // A surviving old member that is given the token learns it was dropped (and wipes itself).
        guard case .removed = try DomainEngine.apply(token, to: w.membership, hsm: w.hsmA) else {
            Issue.record("the old online member is not in the recovered state")
            return
        }
        // Recovering again from the new state works too (the recovery member stays), and tokens do not grow.
        let hsmM = HSMKeys.generate()
        let again = RecoverRequest(
            command: try w.command(for: hsmM, base: token.state), chain: w.chain + [token],
            shares: [try w.reseal(2, to: hsmM, base: token.state), try w.reseal(3, to: hsmM, base: token.state)])
        guard case .token(let second) = w.send(again, to: hsmM).0 else {
            Issue.record("a second recovery must work")
            return
        }
        #expect(second.derBytes.count < token.derBytes.count + 200)
    }

    @Test func everyWrongRecoveryIsRefusedAndTheHSMStaysUninitialized() throws {
        var w = try World()
        let hsmN = HSMKeys.generate()
        let hsmOther = HSMKeys.generate()
        let good = [try w.reseal(1, to: hsmN), try w.reseal(2, to: hsmN)]
        let command = try w.command(for: hsmN)
        var otherCustodians = DomainFixture(seed: "another kit")
        let otherKit = try RecoveryKit.create(
            custodians: w.custodians.map { P384PublicKey($0.publicKey) }, threshold: 2, random: &otherCustodians.random)
        var tampered = good[1].sealed
        tampered[20] ^= 0x01
        let tamperedShare = SealedShare(header: good[1].header, ephemeralKey: good[1].ephemeralKey, sealed: tampered)
        let staleCommand = try w.command(for: hsmN)  // built on the latest state, sent with an older chain
        // The newest token with other sealed keys (keys an attacker knows): its state and digest are unchanged.
        let last = w.chain[w.chain.count - 1]
        let attacker = HSMKeys.generate()
        let fake = try DomainTokenSealer.export(
            state: last.state, authorization: last.authorization,
            keys: last.state.domainKeys.map {
                DomainKey(keyID: $0.keyID, material: SecretBytes(copying: [UInt8](repeating: 7, count: 32)))
            },
            exporter: attacker, random: &w.f.random)
        let forgedLast = DomainToken(
            state: last.state, authorization: last.authorization, keys: fake.keys, exporter: last.exporter,
            signature: last.signature)
        let anchoredAtLast = try w.command(for: hsmN, anchor: last.state.digest)
        let wrongY = try w.forge(2, of: w.kit, to: hsmN, y: SecretBytes(copying: [UInt8](repeating: 9, count: 48)))
        let cases: [(String, RecoverRequest, DomainError.Code, Failure.Code)] = [
            (
                "one share only", RecoverRequest(command: command, chain: w.chain, shares: [good[0]]), .tooFewShares,
                .invalidArgument
            ),
            (
                "shares of another kit",
                RecoverRequest(
                    command: command, chain: w.chain,
                    shares: [try w.forge(1, of: otherKit, to: hsmN), try w.forge(2, of: otherKit, to: hsmN)]),
                .foreignShare, .invalidArgument
            ),
            (
                "one share of another kit",
                RecoverRequest(
                    command: command, chain: w.chain, shares: [good[0], try w.forge(2, of: otherKit, to: hsmN)]),
                .foreignShare, .invalidArgument
            ),
            (
                "a share sealed to another HSM",
                RecoverRequest(
                    command: command, chain: w.chain, shares: [good[0], try w.forge(2, of: w.kit, to: hsmOther)]),
                .misaddressedShare, .authenticationFailed
            ),
            (
                "a custodian's share not resealed",
                RecoverRequest(command: command, chain: w.chain, shares: [good[0], w.kit.shares[1]]),
                .misaddressedShare, .authenticationFailed
            ),
            (
                "the newest token as anchor with other sealed keys",
                RecoverRequest(command: anchoredAtLast, chain: [forgedLast], shares: good), .badSignature,
                .badSignature
            ),
            (
                "the newest token as anchor, exported by a non-member",
                RecoverRequest(command: anchoredAtLast, chain: [fake], shares: good), .badExporter, .badSignature
            ),
            (
                "a share that opens but is not the custodian's (a dishonest custodian)",
                RecoverRequest(command: command, chain: w.chain, shares: [good[0], wrongY]), .authenticationFailed,
                .authenticationFailed
            ),
            (
                "a tampered share",
                RecoverRequest(command: command, chain: w.chain, shares: [good[0], tamperedShare]),
                .authenticationFailed, .authenticationFailed
            ),
            (
                "a stale token", RecoverRequest(command: staleCommand, chain: Array(w.chain.dropLast()), shares: good),
                .staleBase, .staleBase
            ),
            (
                "no quorum",
                RecoverRequest(command: try w.command(for: hsmN, by: ["alice"]), chain: w.chain, shares: good),
                .quorumNotMet, .quorumNotMet
            ),
            (
                "a command for another HSM",
                RecoverRequest(command: try w.command(for: hsmOther), chain: w.chain, shares: good),
                .invalidArgument, .invalidArgument
            ),
            (
                "a chain that is not the pinned anchor's",
                RecoverRequest(
                    command: try w.command(for: hsmN, anchor: w.chain[1].state.digest), chain: w.chain, shares: good),
                .wrongGenesis, .invalidArgument
            ),
            (
                "a chain with a gap",
                RecoverRequest(command: command, chain: [w.chain[0], w.chain[2]], shares: good), .staleBase,
                .staleBase
            ),
        ]
        for (name, request, code, wire) in cases {
            #expect(
                domainErrorCode { _ = try DomainEngine.recover(request, hsm: hsmN, now: w.f.now, random: &w.f.random) }
                    == code, "\(name)")
            let (answer, core) = w.send(request, to: hsmN)
            guard case .failure(let failure) = answer else {
                Issue.record("\(name): expected a failure, got \(answer)")
                continue
            }
            #expect(failure.code == wire, "\(name): \(failure.message)")
            #expect(core.domainState == nil, "\(name): the HSM stays uninitialized")
        }
        // The good request works on a fresh HSM with these keys: each refusal above was for its own reason. So
        // does one anchored at the newest state, with that honest token alone as the chain.
        let (answer, _) = w.send(RecoverRequest(command: command, chain: w.chain, shares: good), to: hsmN)
        guard case .token = answer else {
            Issue.record("the good request must recover, got \(answer)")
            return
        }
        let (anchored, _) = w.send(RecoverRequest(command: anchoredAtLast, chain: [last], shares: good), to: hsmN)
        guard case .token = anchored else {
            Issue.record("a request anchored at the newest honest token must recover, got \(anchored)")
            return
        }
    }

    @Test func anInitializedHSMRefusesARecovery() throws {
        var w = try World()
        var core = HSMCore(keys: w.hsmA)
        let join = try w.f.sign(w.f.command(.join(w.chain[2]), base: nil), by: ["alice", "bob"])
        _ = core.handle(Envelope(id: 1, body: .command(join)), now: w.f.now, random: &w.f.random)
        let before = try #require(core.domainState)
        let request = RecoverRequest(
            command: try w.command(for: w.hsmA), chain: w.chain,
            shares: [try w.reseal(1, to: w.hsmA), try w.reseal(2, to: w.hsmA)])
        let answer = core.handle(Envelope(id: 2, body: .recover(request)), now: w.f.now, random: &w.f.random).answer
        guard case .failure(let failure) = answer.body else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.code == .wrongState)
        #expect(core.domainState == before)
        // domain.recover inside a plain command envelope is refused too: it needs its chain and shares.
        let plain = try w.command(for: HSMKeys.generate())
        #expect(
            domainErrorCode {
                _ = try DomainEngine.execute(
                    plain, membership: nil, hsm: .generate(), now: w.f.now, random: &w.f.random)
            } == .malformed)
    }

    @Test func custodiansResealOnlyForAnApprovedRecoveryToAnUninitializedSelfSignedIdentity() throws {
        var w = try World()
        let hsm = HSMKeys.generate()
        let state = w.membership.state
        func reseal(
            _ command: SignedCommand, share: Int = 0, custodian: Int = 0, now: WireTime? = nil
        ) -> DomainError.Code? {
            domainErrorCode {
                _ = try RecoveryShares.reseal(
                    w.kit.shares[share], custodian: w.custodians[custodian], command: command, state: state,
                    now: now ?? w.f.now, random: &w.f.random)
            }
        }
        func recover(_ identity: SignedIdentity, by signers: [String] = ["alice", "bob"]) throws -> SignedCommand {
            try w.f.sign(
                w.f.command(
                    .recover(DomainRecover(anchor: w.genesisDigest, member: identity)), base: state, lifetime: 600),
                by: signers)
        }
        let good = try recover(try w.f.identity(of: hsm))
        #expect(reseal(good) == nil)
        // An operational identity, a forged one, no quorum, another command, an expired one: refused.
        let operational = try hsm.signedIdentity(
            challenge: [UInt8](repeating: 2, count: 16), domain: (state.domainID, state.epoch))
        #expect(reseal(try recover(operational)) == .invalidArgument)
        let forged = SignedIdentity(
            identity: try w.f.identity(of: hsm).identity, signature: try w.f.identity(of: HSMKeys.generate()).signature)
        #expect(reseal(try recover(forged)) == .badSignature)
        #expect(reseal(try recover(try w.f.identity(of: hsm), by: ["alice"])) == .quorumNotMet)
        #expect(reseal(try w.f.sign(w.f.command(.rotateKeys, base: state), by: ["alice", "bob"])) == .invalidArgument)
        #expect(reseal(good, now: w.f.now.adding(seconds: 601)) == .timeWindow)
        // Another custodian's key does not open the share; a share of a kit the domain does not list is refused.
        #expect(reseal(good, custodian: 1) == .misaddressedShare)
        var other = DomainFixture(seed: "kit the domain does not list")
        let stranger = try RecoveryKit.create(
            custodians: w.custodians.map { P384PublicKey($0.publicKey) }, threshold: 2, random: &other.random)
        #expect(
            domainErrorCode {
                _ = try RecoveryShares.reseal(
                    stranger.shares[0], custodian: w.custodians[0], command: good, state: state, now: w.f.now,
                    random: &w.f.random)
            } == .foreignShare)
    }

    @Test func theKitHoldsNoPlaintextShareOrPrivateKey() throws {
        var random = SeededRandom(seed: "kit bytes")
        let custodians = (0..<3).map { _ in P384.KeyAgreement.PrivateKey() }
        // The same seed draws the same keys: rebuild them to know what must not appear in the files.
        var replay = SeededRandom(seed: "kit bytes")
        let signingScalar = replay.bytes(count: 48)
        let agreementScalar = replay.bytes(count: 48)
        let kit = try RecoveryKit.create(
            custodians: custodians.map { P384PublicKey($0.publicKey) }, threshold: 2, random: &random)
        let files = kit.shares.map(\.derBytes) + [kit.member.derBytes]
        var ys: [Shamir.Share] = []
        for (index, share) in kit.shares.enumerated() {
            let y = try RecoveryShares.open(share, with: custodians[index])
            ys.append(Shamir.Share(x: UInt8(share.header.x), y: y))
            let plain = y.withUnsafeBytes { [UInt8]($0) }
            for file in files { #expect(!contains(file, plain), "a plaintext share is in a kit file") }
        }
        let rebuilt = try Shamir.combine(Array(ys.prefix(2))).withUnsafeBytes { [UInt8]($0) }
        #expect(rebuilt == agreementScalar, "the seeded draw order is signing key, then agreement key")
        for file in files {
            #expect(!contains(file, rebuilt))
            #expect(!contains(file, signingScalar))
        }
    }

    /// Every single-byte change of a resealed share either does not parse or is refused with a typed error
    /// (never a crash, never a share that opens to other bytes). With COFFER_WRITE_CORPUS=1 the test also
    /// writes a recover request and a sealed share into the fuzz corpus as seeds (docs/fuzzing.md).
    @Test func everyByteFlipOfAShareIsRefused() throws {
        var w = try World()
        let hsmN = HSMKeys.generate()
        let share = try w.reseal(1, to: hsmN)
        let y = try RecoveryShares.open(share, with: hsmN.agreement)
        let bytes = share.derBytes
        var refusedByParser = 0
        var refusedByCrypto = 0
        for index in bytes.indices {
            var flipped = bytes
            flipped[index] ^= 0x01
            guard let parsed = try? SealedShare(derEncoded: flipped) else {
                refusedByParser += 1
                continue
            }
            let code = domainErrorCode { _ = try RecoveryShares.open(parsed, with: hsmN.agreement) }
            #expect(
                code == .authenticationFailed || code == .misaddressedShare,
                "byte \(index): \(String(describing: code))")
            refusedByCrypto += 1
        }
        #expect(refusedByParser + refusedByCrypto == bytes.count)
        #expect(refusedByCrypto > 0 && refusedByParser > 0)
        #expect(try RecoveryShares.open(share, with: hsmN.agreement) == y)
        if ProcessInfo.processInfo.environment["COFFER_WRITE_CORPUS"] == "1" {
            let request = RecoverRequest(
                command: try w.command(for: hsmN), chain: w.chain, shares: [share, try w.reseal(2, to: hsmN)])
            let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../CofferWireTests/FuzzCorpus")
            try Data(Envelope(id: 9, body: .recover(request)).frame).write(
                to: corpus.appendingPathComponent("seed-recover-request"))
            try Data(bytes).write(to: corpus.appendingPathComponent("seed-sealed-share"))
        }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
