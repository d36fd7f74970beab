import CofferStore
import Foundation
import Testing

/// A key row's version: a change applies only to the version it was read at (`stale` otherwise), so a DisableKey, a
/// ScheduleKeyDeletion or a rotation that lands between another change's read and write is never undone.
@Suite struct KeyVersionTests {
    static let scope = KeyScope(account: "111122223333", region: "us-east-1")

    static func backing(_ id: String) -> BackingKeyRecord {
        BackingKeyRecord(scope: scope, keyID: "k1", backingKeyID: id, token: [1], createdAt: 1, origin: .onDemand)
    }

    @Test(arguments: StoreKind.available) func aStaleWriteIsAConflictAndChangesNothing(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        let key = KeyRecord(
            scope: Self.scope, id: "k1", description: "", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: .enabled, creationDate: 1, policy: "{}")
        try await store.createKey(key, firstBackingKey: Self.backing("b0"))
        let first = try #require(try await store.key(Self.scope, id: "k1"))
        let second = first
        #expect(first.version == 0)

        var described = first
        described.description = "first"
        try await store.updateKey(described)
        var disabled = second
        disabled.state = .disabled
        #expect(await storeErrorCode { try await store.updateKey(disabled) } == .stale)
        #expect(await storeErrorCode { try await store.rotate(second, newBackingKey: Self.backing("b1")) } == .stale)
        #expect(await storeErrorCode { try await store.replaceBackingKeys(second, with: nil) } == .stale)
        var now = try #require(try await store.key(Self.scope, id: "k1"))
        #expect(now.description == "first" && now.state == .enabled && now.version == 1)
        #expect(try await store.backingKeys(Self.scope, of: "k1").map(\.backingKeyID) == ["b0"])

        // A deletion scheduled meanwhile moves the version too: the stale EnableKey cannot undo it.
        let scheduled = try await store.scheduleDeletion(Self.scope, id: "k1", windowDays: 7, now: 100)
        #expect(scheduled.version == 2)
        var enabled = now
        enabled.state = .enabled
        #expect(await storeErrorCode { try await store.updateKey(enabled) } == .stale)
        now = try #require(try await store.key(Self.scope, id: "k1"))
        #expect(now.state == .pendingDeletion && now.version == scheduled.version)
        await store.close()
    }
}
