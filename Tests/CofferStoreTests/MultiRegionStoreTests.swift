import CofferStore
import Foundation
import Testing

/// The multi-Region key set in the store (SQLite and PostgreSQL): replicas made from the primary inside one transaction,
/// shared rotation, a primary region no stale write can undo, deletion that waits for replicas, and one
/// imported material per set.
@Suite struct MultiRegionStoreTests {
    static let east = KeyScope(account: "111122223333", region: "us-east-1")
    static let west = KeyScope(account: "111122223333", region: "eu-west-1")
    static let id = "mrk-0123456789abcdef0123456789abcdef"

    static func store(_ kind: StoreKind) async throws -> (SQLKeyStore, TestDatabase) {
        let database = try await kind.fresh(legacyScope: east)
        return (try await database.open(), database)
    }

    static func primary(origin: String = "AWS_KMS") -> KeyRecord {
        KeyRecord(
            scope: east, id: id, description: "primary", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: origin == "EXTERNAL" ? .pendingImport : .enabled, creationDate: 1_800_000_000, policy: "{}",
            rotationEnabled: true, rotationPeriodDays: 90, nextRotationDate: 1_807_776_000, origin: origin,
            primaryRegion: east.region)
    }

    static func backing(
        _ name: String, _ scope: KeyScope = east, origin: BackingKeyRecord.Origin = .creation
    )
        -> BackingKeyRecord
    {
        BackingKeyRecord(
            scope: scope, keyID: id, backingKeyID: name, token: Array(name.utf8), createdAt: 1_800_000_000,
            origin: origin)
    }

    @Test(arguments: StoreKind.available) func aReplicaTakesThePrimarysPropertiesAndEveryBackingKey(
        _ kind: StoreKind
    ) async throws {
        let (store, database) = try await Self.store(kind)
        defer { database.remove() }
        try await store.createKey(Self.primary(), firstBackingKey: Self.backing("b1"))
        try await store.rotate(Self.primary(), newBackingKey: Self.backing("b2", origin: .onDemand))
        let replica = try await store.createReplica(
            of: Self.east, id: Self.id, in: Self.west.region, description: "replica", policy: "{}", createdAt: 5)
        #expect(replica.primaryRegion == Self.east.region && replica.isReplica && replica.rotationPeriodDays == 90)
        #expect(try await store.key(Self.west, id: Self.id) == replica)
        #expect(try await store.backingKeys(Self.west, of: Self.id).map(\.backingKeyID) == ["b2", "b1"])
        #expect(
            try await store.relatedKeys(account: Self.east.account, id: Self.id).map(\.scope) == [Self.west, Self.east])
        #expect(
            await storeErrorCode {
                _ = try await store.createReplica(
                    of: Self.east, id: Self.id, in: Self.west.region, description: "", policy: "{}", createdAt: 5)
            } == .alreadyExists)
        // Only the primary replicates, and not while pending deletion.
        #expect(
            await storeErrorCode {
                _ = try await store.createReplica(
                    of: Self.west, id: Self.id, in: "ap-south-1", description: "", policy: "{}", createdAt: 5)
            } == .conflict)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func rotationReachesReplicasAndAStaleWriteKeepsThePrimaryRegion(
        _ kind: StoreKind
    ) async throws {
        let (store, database) = try await Self.store(kind)
        defer { database.remove() }
        try await store.createKey(Self.primary(), firstBackingKey: Self.backing("b1"))
        let replica = try await store.createReplica(
            of: Self.east, id: Self.id, in: Self.west.region, description: "", policy: "{}", createdAt: 5)
        var rotated = Self.primary()
        rotated.nextRotationDate = 1_900_000_000
        try await store.rotate(rotated, newBackingKey: Self.backing("b2"))
        #expect(try await store.backingKeys(Self.west, of: Self.id).map(\.backingKeyID) == ["b2", "b1"])
        #expect(try await store.key(Self.west, id: Self.id)?.nextRotationDate == 1_900_000_000)
        // UpdatePrimaryRegion, then a write from a copy read before it: refused (the row moved on), and a
        // write from a fresh copy keeps the new region (updateKey never writes it).
        try await store.updatePrimaryRegion(account: Self.east.account, id: Self.id, to: Self.west.region)
        var stale = try #require(try await store.key(Self.east, id: Self.id))
        stale.version -= 1
        stale.state = .disabled
        #expect(await storeErrorCode { try await store.updateKey(stale) } == .stale)
        var fresh = try #require(try await store.key(Self.east, id: Self.id))
        fresh.state = .disabled
        fresh.primaryRegion = Self.east.region
        try await store.updateKey(fresh)
        #expect(try await store.key(Self.east, id: Self.id)?.primaryRegion == Self.west.region)
        #expect(try await store.key(Self.east, id: Self.id)?.state == .disabled)
        // The old primary's stale rotation no longer reaches the new primary.
        #expect(await storeErrorCode { try await store.rotate(stale, newBackingKey: Self.backing("b3")) } == .stale)
        #expect(try await store.backingKeys(Self.west, of: Self.id).map(\.backingKeyID) == ["b2", "b1"])
        _ = replica
        await store.close()
    }

    @Test(arguments: StoreKind.available) func aPrimaryWaitsForItsReplicasDeletion(_ kind: StoreKind) async throws {
        let (store, database) = try await Self.store(kind)
        defer { database.remove() }
        try await store.createKey(Self.primary(), firstBackingKey: Self.backing("b1"))
        _ = try await store.createReplica(
            of: Self.east, id: Self.id, in: Self.west.region, description: "", policy: "{}", createdAt: 5)
        let waiting = try await store.scheduleDeletion(Self.east, id: Self.id, windowDays: 9, now: 100)
        #expect(
            waiting.state == .pendingReplicaDeletion && waiting.pendingWindowDays == 9 && waiting.deletionDate == nil)
        #expect(try await store.startDeletionWindow(Self.east, id: Self.id, now: 200) == nil)
        let replica = try await store.scheduleDeletion(Self.west, id: Self.id, windowDays: 7, now: 100)
        #expect(replica.state == .pendingDeletion && replica.deletionDate == 100 + 7 * 86_400)
        try await store.deleteKey(Self.west, id: Self.id)
        let started = try #require(try await store.startDeletionWindow(Self.east, id: Self.id, now: 200))
        #expect(started.state == .pendingDeletion && started.deletionDate == 200 + 9 * 86_400)
        #expect(try await store.startDeletionWindow(Self.east, id: Self.id, now: 300) == nil)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func aSetHoldsOneImportedMaterial(_ kind: StoreKind) async throws {
        let (store, database) = try await Self.store(kind)
        defer { database.remove() }
        try await store.createKey(Self.primary(origin: "EXTERNAL"), firstBackingKey: nil)
        _ = try await store.createReplica(
            of: Self.east, id: Self.id, in: Self.west.region, description: "", policy: "{}", createdAt: 5)
        var replica = try #require(try await store.key(Self.west, id: Self.id))
        #expect(replica.state == .pendingImport && replica.keyMaterialID == nil)
        replica.keyMaterialID = "aa"
        replica.state = .enabled
        try await store.replaceBackingKeys(replica, with: Self.backing("m-aa", Self.west, origin: .imported))
        #expect(try await store.key(Self.east, id: Self.id)?.keyMaterialID == "aa")
        var other = try #require(try await store.key(Self.east, id: Self.id))
        other.keyMaterialID = "bb"
        #expect(
            await storeErrorCode {
                try await store.replaceBackingKeys(other, with: Self.backing("m-bb", origin: .imported))
            } == .conflict)
        #expect(try await store.backingKeys(Self.east, of: Self.id).isEmpty)
        await store.close()
    }
}
