import CofferCrypto
import CofferStore
import CofferTestSupport
import Testing

@testable import CofferKMS

/// A rotation whose key changed between the read and the write is applied to the key as it is then, and
/// only if the key may still rotate: never to a key disabled, scheduled for deletion or no longer due.
@Suite struct RotationRaceTests {
    @Test func aStaleAutomaticRotationOfAKeyDisabledMeanwhileIsNotDone() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        _ = try await world.call(
            EnableKeyRotation.self, EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: 90))
        let due = try #require(try await world.store.key(KMSWorld.context.scope, id: key.keyId))
        _ = try await world.call(DisableKey.self, DisableKeyRequest(keyId: key.keyId))
        world.clock.advance(91 * 86_400)
        #expect(try await world.kms.rotate(due, origin: .automatic) == false)
        #expect(try await world.store.backingKeys(KMSWorld.context.scope, of: key.keyId).count == 1)
        // The scheduler, which reads the key itself, does not rotate it either.
        #expect(try await world.kms.runScheduledWork().rotated.isEmpty)
        await world.stop()
    }

    @Test func aStaleOnDemandRotationOfAKeyScheduledForDeletionIsRefused() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let read = try #require(try await world.store.key(KMSWorld.context.scope, id: key.keyId))
        _ = try await world.call(
            ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: 7))
        do {
            try await world.kms.rotate(read, origin: .onDemand)
            Issue.record("a key pending deletion was rotated")
        } catch {
            #expect(error.code == .invalidState)
        }
        #expect(try await world.store.backingKeys(KMSWorld.context.scope, of: key.keyId).count == 1)
        // A stale on-demand rotation of a key that only changed its description is done.
        let other = try await world.newKey()
        let stale = try #require(try await world.store.key(KMSWorld.context.scope, id: other.keyId))
        _ = try await world.call(
            UpdateKeyDescription.self, UpdateKeyDescriptionRequest(keyId: other.keyId, description: "changed"))
        #expect(try await world.kms.rotate(stale, origin: .onDemand))
        let now = try #require(try await world.store.key(KMSWorld.context.scope, id: other.keyId))
        #expect(now.description == "changed")
        #expect(try await world.store.backingKeys(KMSWorld.context.scope, of: other.keyId).count == 2)
        await world.stop()
    }
}
