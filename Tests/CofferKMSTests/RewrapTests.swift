import CofferCrypto
import CofferHSMClient
import CofferStore
import CofferTestSupport
import CofferWire
import Logging
import Testing

@testable import CofferKMS

/// The re-wrap job keeps every stored token (backing keys, access keys' secrets) under the active domain
/// key, so ciphertexts made before any number of domain-key rotations still decrypt.
@Suite struct RewrapTests {
    /// Rotates the in-process HSM's domain keys once and lets the pool adopt the new state (as the
    /// host's upkeep round does).
    func rotate(_ world: KMSWorld) async throws -> DomainState {
        let state = try await world.hsm.execute(.rotateKeys, base: await world.pool.domainState, now: world.clock.now)
        _ = await world.pool.healthCheck()
        #expect(await world.pool.domainState == state)
        return state
    }

    func domainKeys(_ world: KMSWorld) async throws -> [String] {
        var after: TokenPlace?
        var keys: [String] = []
        while true {
            let page = try await world.store.storedTokens(after: after, limit: 2)
            keys += try page.map { Hex.encode(try ExportedKeyToken(derEncoded: $0.token).header.domainKeyID) }
            guard let last = page.last else { return keys }
            after = last.place
        }
    }

    @Test func ciphertextsOutliveMoreRotationsThanTheRetentionWithTheJob() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let early = try await world.encrypt(key.keyId, [1, 2, 3])
        _ = try await world.kms.addPrincipal(name: "app", kind: .user, account: KMSWorld.account, policy: nil)
        let job = RewrapJob(kms: world.kms, logger: Logger(label: "test"))
        let retention = world.hsm.state.parameters.domainKeyRetention
        var state = world.hsm.state
        for round in 0..<(retention + 2) {
            state = try await rotate(world)
            let pass = try #require(try await job.runIfDue(state: state, now: world.clock.seconds))
            // Two tokens each round: the key's backing key and the access key's secret.
            #expect(pass.examined == 2 && pass.rewrapped == 2 && pass.failed == 0, "round \(round)")
            #expect(pass.census.byDomainKey == [Hex.encode(state.domainKeys[0].keyID): 2])
            // Nothing is due again until the active key changes or the interval passes.
            #expect(try await job.runIfDue(state: state, now: world.clock.seconds) == nil)
        }
        #expect(Set(try await domainKeys(world)) == [Hex.encode(state.domainKeys[0].keyID)])
        #expect(try await world.decrypt(early).withUnsafeBytes { Array($0) } == [1, 2, 3])
        let census = try await TokenCensus.take(of: world.store)
        #expect(census.total == 2 && census.unreadable == 0)
        await world.stop()
    }

    @Test func withoutTheJobTheOldestTokensDieWithTheirDomainKey() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let early = try await world.encrypt(key.keyId, [4, 5, 6])
        let retention = world.hsm.state.parameters.domainKeyRetention
        var state = world.hsm.state
        for _ in 0..<retention { state = try await rotate(world) }
        // The key that sealed the backing key is no longer retained: no HSM can open it, and the pass
        // counts it as failed without asking one.
        #expect(await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: early)) != nil)
        let pass = try await world.kms.rewrapTokens(
            to: state.domainKeys[0].keyID, retained: state.domainKeys.map(\.keyID))
        #expect(pass.failed == 1 && pass.rewrapped == 0)
        await world.stop()
    }

    /// An HSM whose every re-wrap is raced by another writer: between the pass's read of a token and its
    /// conditional replace, the row gets another token (as another host's pass would write).
    struct RacedBackend: CryptoBackend {
        let pool: HSMPool
        let store: SQLKeyStore

        func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult {
            let result = try await pool.execute(command)
            if case .rewrapToken(let token) = command,
                case .token(let other) = try await pool.execute(.rewrapToken(token: token)),
                let row = try? await store.storedTokens(after: nil, limit: 100).first(where: {
                    $0.token == token.derBytes
                }),
                (try? await store.replaceToken(at: row.place, expected: token.derBytes, with: other.derBytes)) != true
            {
                Issue.record("the racing writer could not replace \(row.place)")
            }
            return result
        }
    }

    @Test func aTokenChangedDuringThePassIsNotOverwritten() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let early = try await world.encrypt(key.keyId, [7])
        let state = try await rotate(world)
        let raced = KMSService(
            store: world.store, hsm: RacedBackend(pool: world.pool, store: world.store), clock: { world.clock.seconds })
        let before = try await world.store.storedTokens(after: nil, limit: 10)
        let pass = try await raced.rewrapTokens(to: state.domainKeys[0].keyID, retained: state.domainKeys.map(\.keyID))
        #expect(pass.examined == 1 && pass.changedMeanwhile == 1 && pass.rewrapped == 0)
        // The row holds the other writer's token, not the pass's: both are under the active key, and the
        // key's ciphertexts still decrypt.
        let after = try await world.store.storedTokens(after: nil, limit: 10)
        #expect(after.map(\.place) == before.map(\.place) && after.map(\.token) != before.map(\.token))
        #expect(try await domainKeys(world) == [Hex.encode(state.domainKeys[0].keyID)])
        #expect(try await world.decrypt(early).withUnsafeBytes { Array($0) } == [7])
        // A damaged row is counted, not re-wrapped.
        let row = try #require(after.first)
        #expect(try await world.store.replaceToken(at: row.place, expected: row.token, with: [1]))
        let damaged = try await world.kms.rewrapTokens(
            to: state.domainKeys[0].keyID, retained: state.domainKeys.map(\.keyID))
        #expect(damaged.census.unreadable == 1 && damaged.rewrapped == 0)
        await world.stop()
    }

    @Test func thePassStopsWhenTheHSMsAreAheadOfTheHostsState() async throws {
        let world = try await KMSWorld()
        _ = try await world.newKey()
        _ = try await world.newKey()
        let old = await world.pool.domainState
        // The HSM rotates twice; the host's pool still trusts the state before (no upkeep round ran).
        let once = try await world.hsm.execute(.rotateKeys, base: old, now: world.clock.now)
        _ = try await world.hsm.execute(.rotateKeys, base: once, now: world.clock.now)
        let pass = try await world.kms.rewrapTokens(
            to: once.domainKeys[0].keyID, retained: once.domainKeys.map(\.keyID))
        #expect(pass.stoppedBehind && pass.rewrapped == 0 && pass.examined == 2)
        await world.stop()
    }
}
