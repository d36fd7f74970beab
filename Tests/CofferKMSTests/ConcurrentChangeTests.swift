import CofferCrypto
import CofferKMS
import CofferStore
import CofferTestSupport
import Logging
import Testing

/// State changes of one key from two services over one store at once (two hosts' services; one SQLite
/// connection, so the races are between their reads and writes, not between connections): every
/// acknowledged change is in effect at the end, none undone by another's stale write.
@Suite struct ConcurrentChangeTests {
    @Test func everyAcknowledgedChangeIsInEffect() async throws {
        let world = try await KMSWorld(auditOwnStore: true)
        let other = KMSService(
            store: world.store, hsm: world.pool, clock: { world.clock.seconds },
            audit: StoreAudit(store: world.store, clock: { world.clock.seconds }, logger: Logger(label: "test")))
        let key = try await world.newKey()
        let context = KMSWorld.context
        for round in 0..<12 {
            let description = "round \(round)"
            let policy =
                #"{"Version":"2012-10-17","Id":"round-\#(round)","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#
            let disable = round % 2 == 0
            async let a = world.kms.perform(
                UpdateKeyDescription.self,
                body: UpdateKeyDescriptionRequest(keyId: key.keyId, description: description).json, context: context)
            async let b = other.perform(
                PutKeyPolicy.self, body: PutKeyPolicyRequest(keyId: key.keyId, policy: policy).json, context: context)
            async let d =
                disable
                ? other.perform(DisableKey.self, body: DisableKeyRequest(keyId: key.keyId).json, context: context)
                : other.perform(EnableKey.self, body: EnableKeyRequest(keyId: key.keyId).json, context: context)
            _ = try await (a, b, d)
            let now = try #require(try await world.store.key(context.scope, id: key.keyId))
            #expect(now.description == description, "round \(round)")
            #expect(now.policy == policy, "round \(round)")
            #expect(now.state == (disable ? .disabled : .enabled), "round \(round)")
        }
        // One record per call, however often a change was applied again (CreateKey and three per round).
        #expect(try await world.store.auditRecords(after: 0, limit: 1_000).count == 1 + 3 * 12)
        #expect(try await world.store.verifyAudit().isIntact)
        await world.stop()
    }
}
