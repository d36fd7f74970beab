import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Testing

/// Two real `coffer hsm` processes in one domain, a host's HSMPool in front of them.
@Suite(.serialized) struct HSMPoolProcessTests {
    /// Builds the domain on real processes: create on A (with the host), add B, B joins.
    static func makeDomain(
        a: HSMAddress, b: HSMAddress, hostKey: P384.Signing.PrivateKey
    ) async throws -> (DomainState, DomainFixture) {
        var f = DomainFixture()
        f.now = HSMServerClock.now
        // One connection per request, as the operator tools use them: an HSM closes a connection that has
        // not authenticated within its grace (10 s), which a loaded test machine can exceed between steps.
        func request(_ body: Envelope.Body, _ address: HSMAddress) async throws -> Envelope.Body {
            let connection = try await HSMConnection.connect(to: address)
            do {
                let answer = try await connection.request(body)
                await connection.close()
                return answer
            } catch {
                await connection.close()
                throw error
            }
        }
        func identity(_ address: HSMAddress) async throws -> SignedIdentity {
            guard
                case .identity(let signed) = try await request(
                    .identify(challenge: [UInt8](repeating: 9, count: 16)), address)
            else {
                throw FixtureError()
            }
            return signed
        }
        func submit(_ signed: SignedCommand, _ address: HSMAddress) async throws -> DomainToken {
            let answer = try await request(.command(signed), address)
            guard case .token(let token) = answer else {
                Issue.record("refused: \(answer)")
                throw FixtureError()
            }
            return token
        }
        let create = DomainCreate(
            name: "pool", operators: f.operators.values.map(\.record),
            member: MemberAddition(identity: try await identity(a), kind: .online),
            hosts: [Host(id: "host-1", signingKey: P384PublicKey(hostKey.publicKey))], rules: DomainFixture.rules,
            parameters: .defaults)
        var token = try await submit(
            try f.sign(f.command(.create(create), base: nil), by: ["alice", "bob", "carol"]), a)
        let add = MemberAddition(identity: try await identity(b), kind: .online)
        token = try await submit(
            try f.sign(f.command(.modifyMembers(add: [add], remove: []), base: token.state), by: ["alice", "bob"]),
            a)
        _ = try await submit(try f.sign(f.command(.join(token), base: nil), by: ["alice", "bob"]), b)
        return (token.state, f)
    }

    @Test func aPoolSurvivesSIGKILLOfTheHSMThatAcceptedItsSession() async throws {
        let (processA, addressA, _) = try await HSMProcessTests.startHSM()
        let (processB, addressB, _) = try await HSMProcessTests.startHSM()
        defer {
            if processA.isRunning { processA.terminate() }
            if processB.isRunning { processB.terminate() }
        }
        let hostKey = P384.Signing.PrivateKey()
        let (state, fixture) = try await Self.makeDomain(a: addressA, b: addressB, hostKey: hostKey)

        // A session negotiated with A is used on B.
        let onlyA = HSMPool(
            addresses: [addressA], hostID: "host-1", hostKey: hostKey, domain: state, clock: { HSMServerClock.now })
        let token: ExportedKeyToken
        guard
            case .token(let created) = try await onlyA.execute(
                .createBackingKey(
                    keyID: [UInt8](repeating: 1, count: 16), backingKeyID: [UInt8](repeating: 2, count: 16),
                    spec: "AES_256"))
        else { throw FixtureError() }
        token = created
        let sessionHSM = await onlyA.sessionHSM
        #expect(sessionHSM == (try await HSMProcessTests.identify(addressA)))

        let pool = HSMPool(
            addresses: [addressA, addressB], hostID: "host-1", hostKey: hostKey, domain: state,
            clock: { HSMServerClock.now })
        // Establish the pool's session while both are up; then kill A in the middle of the stream.
        _ = try await pool.execute(.generateRandom(length: 16))
        let total = 10_000
        let workers = 16
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var failed = 0
                    for index in stride(from: worker, to: total, by: workers) {
                        if index == total / 5 { kill(processA.processIdentifier, SIGKILL) }
                        let plaintext = SecretBytes(copying: Array("message \(index)".utf8))
                        let context = try EncryptionContext(["index": "\(index)"])
                        do {
                            guard
                                case .ciphertext(let blob) = try await pool.execute(
                                    .encrypt(key: token, plaintext: plaintext, context: context)),
                                case .plaintext(_, let opened) = try await pool.execute(
                                    .decrypt(key: token, ciphertext: blob, context: context)),
                                opened == plaintext
                            else {
                                failed += 1
                                continue
                            }
                        } catch {
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            return try await group.reduce(0, +)
        }
        print("pool: \(total) Encrypt/Decrypt pairs with A killed at request \(total / 5): \(failures) failed")
        #expect(failures == 0)
        #expect(!processA.isRunning)
        await pool.close()
        await onlyA.close()

        // A restarted HSM is a new HSM: a new identity, refused until it joins again.
        let port: Int
        if case .tcp(_, let p) = addressA { port = p } else { port = 0 }
        let (restarted, _, _) = try await HSMProcessTests.startHSM(port: port)
        defer { restarted.terminate() }
        let newID = try await HSMProcessTests.identify(addressA)
        #expect(newID != sessionHSM)
        let connection = try await HSMConnection.connect(to: addressA)
        var handshake = SessionHandshake(hostID: "host-1", hostKey: hostKey, domain: state)
        var random = SystemRandom()
        let answer = try await connection.request(
            .sessionInit(try handshake.start(now: HSMServerClock.now, random: &random)))
        guard case .failure(let failure) = answer else {
            Issue.record("a restarted HSM must refuse sessions until it joins")
            return
        }
        #expect(failure.code == .wrongState)

        // Operators replace the old A by the new one (B executes), and the new A joins: it serves again.
        var f = fixture
        f.now = HSMServerClock.now
        let connB = try await HSMConnection.connect(to: addressB)
        guard case .token(let current) = try await connB.request(.currentToken),
            case .identity(let newIdentity) = try await connection.request(
                .identify(challenge: [UInt8](repeating: 4, count: 16)))
        else { throw FixtureError() }
        let idB = try await HSMProcessTests.identify(addressB)
        let oldA = try #require(current.state.members.first { $0.hsmID != idB }?.hsmID)
        let replace = try f.sign(
            f.command(
                .modifyMembers(add: [MemberAddition(identity: newIdentity, kind: .online)], remove: [oldA]),
                base: current.state),
            by: ["alice", "bob"])
        guard case .token(let replaced) = try await connB.request(.command(replace)) else {
            Issue.record("B must execute the replacement")
            return
        }
        let join = try f.sign(f.command(.join(replaced), base: nil), by: ["alice", "bob"])
        guard case .token = try await connection.request(.command(join)) else {
            Issue.record("the restarted HSM must be able to join again")
            return
        }
        let rejoined = HSMPool(
            addresses: [addressA], hostID: "host-1", hostKey: hostKey, domain: replaced.state,
            clock: { HSMServerClock.now })
        guard case .random = try await rejoined.execute(.generateRandom(length: 8)) else {
            Issue.record("after joining, the HSM serves sessions again")
            return
        }
        #expect(await rejoined.sessionHSM == newIdentity.identity.hsmID)
        await rejoined.close()
        await connB.close()
        await connection.close()
    }
}

/// The wall clock as the HSM processes see it.
enum HSMServerClock {
    static var now: WireTime { WireTime.now }
}
