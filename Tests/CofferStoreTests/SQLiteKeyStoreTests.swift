import CofferStore
import Foundation
import Testing

/// The SQLite key store on a real file: durability across reopening, atomic changes, pagination, and
/// concurrent callers.
@Suite struct SQLiteKeyStoreTests {
    private static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-\(UUID().uuidString).sqlite").path
    }

    private static func key(_ id: String, state: KeyRecord.State = .enabled) -> KeyRecord {
        KeyRecord(
            id: id, description: "key \(id)", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT", state: state,
            creationDate: 1_800_000_000, policy: #"{"Version":"2012-10-17"}"#)
    }

    private static func backing(
        _ keyID: String, _ id: String, origin: BackingKeyRecord.Origin = .creation
    ) -> BackingKeyRecord {
        BackingKeyRecord(
            keyID: keyID, backingKeyID: id, token: Array("token of \(id)".utf8), createdAt: 1_800_000_000,
            origin: origin)
    }

    private func code(_ body: () async throws -> Void) async -> StoreError.Code? {
        do {
            try await body()
            return nil
        } catch let error as StoreError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func everythingSurvivesReopening() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var store = try await SQLiteKeyStore.open(path: path)
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        var rotated = Self.key("k1")
        rotated.rotationEnabled = true
        rotated.rotationPeriodDays = 365
        try await store.rotate(rotated, newBackingKey: Self.backing("k1", "b2", origin: .onDemand))
        try await store.createAlias(AliasRecord(name: "alias/app", keyID: "k1", creationDate: 1, lastUpdatedDate: 1))
        try await store.setTags([TagRecord(key: "team", value: "payments")], on: "k1")
        try await store.appendDomainToken(epoch: 0, der: [0x30, 0x00])
        await store.close()

        store = try await SQLiteKeyStore.open(path: path)
        #expect(try await store.key(id: "k1") == rotated)
        #expect(try await store.backingKeys(of: "k1").map(\.backingKeyID) == ["b2", "b1"])
        #expect(try await store.backingKeys(of: "k1").first?.origin == .onDemand)
        #expect(try await store.alias(name: "alias/app")?.keyID == "k1")
        #expect(try await store.tags(of: "k1") == [TagRecord(key: "team", value: "payments")])
        #expect(try await store.domainTokens().map(\.epoch) == [0])
        await store.close()
    }

    @Test func aFailedChangeLeavesNothingBehind() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLiteKeyStore.open(path: path)
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        // The second key's backing key id collides: the key must not exist afterwards.
        #expect(
            await code { try await store.createKey(Self.key("k2"), firstBackingKey: Self.backing("k2", "b1")) }
                == .alreadyExists)
        #expect(try await store.key(id: "k2") == nil)
        // A rotation whose backing key collides leaves the key's metadata unchanged.
        var changed = Self.key("k1")
        changed.description = "changed"
        #expect(
            await code { try await store.rotate(changed, newBackingKey: Self.backing("k1", "b1")) } == .alreadyExists)
        #expect(try await store.key(id: "k1")?.description == "key k1")
        #expect(
            await code { try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b9")) }
                == .alreadyExists)
        await store.close()
    }

    @Test func aliasesTagsAndDeletion() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLiteKeyStore.open(path: path)
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        try await store.createKey(Self.key("k2"), firstBackingKey: Self.backing("k2", "b2"))
        let alias = AliasRecord(name: "alias/a", keyID: "k1", creationDate: 1, lastUpdatedDate: 1)
        try await store.createAlias(alias)
        #expect(await code { try await store.createAlias(alias) } == .alreadyExists)
        #expect(
            await code {
                try await store.createAlias(
                    AliasRecord(name: "alias/b", keyID: "nope", creationDate: 1, lastUpdatedDate: 1))
            } == .notFound)
        try await store.updateAlias(AliasRecord(name: "alias/a", keyID: "k2", creationDate: 1, lastUpdatedDate: 2))
        #expect(try await store.alias(name: "alias/a")?.keyID == "k2")
        #expect(try await store.listAliases(keyID: "k1", after: nil, limit: 10).isEmpty)
        #expect(await code { try await store.deleteAlias(name: "alias/zzz") } == .notFound)
        try await store.setTags([TagRecord(key: "a", value: "1"), TagRecord(key: "b", value: "2")], on: "k2")
        try await store.setTags([TagRecord(key: "a", value: "3")], on: "k2")
        try await store.removeTags(["b"], from: "k2")
        #expect(try await store.tags(of: "k2") == [TagRecord(key: "a", value: "3")])
        try await store.deleteKey(id: "k2")
        #expect(try await store.key(id: "k2") == nil)
        #expect(try await store.alias(name: "alias/a") == nil)
        #expect(try await store.tags(of: "k2").isEmpty)
        #expect(try await store.backingKeys(of: "k2").isEmpty)
        #expect(await code { try await store.deleteKey(id: "k2") } == .notFound)
        #expect(await code { try await store.appendDomainToken(epoch: 3, der: [1]) } == nil)
        #expect(await code { try await store.appendDomainToken(epoch: 3, der: [1]) } == .alreadyExists)
        await store.close()
    }

    @Test func listingPagesByMarker() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLiteKeyStore.open(path: path)
        let ids = (0..<25).map { String(format: "key-%02d", $0) }
        for id in ids.shuffled() {
            try await store.createKey(Self.key(id), firstBackingKey: Self.backing(id, "b-\(id)"))
        }
        var seen: [String] = []
        var marker: String?
        repeat {
            let page = try await store.listKeys(after: marker, limit: 10)
            seen += page.map(\.id)
            marker = page.count == 10 ? page.last?.id : nil
        } while marker != nil
        #expect(seen == ids)
        await store.close()
    }

    @Test func concurrentWritersAllLand() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLiteKeyStore.open(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let id = "c\(index)"
                    try await store.createKey(Self.key(id), firstBackingKey: Self.backing(id, "b\(index)"))
                    try await store.rotate(
                        Self.key(id), newBackingKey: Self.backing(id, "r\(index)", origin: .automatic))
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.listKeys(after: nil, limit: 1000).count == 64)
        for index in 0..<64 { #expect(try await store.backingKeys(of: "c\(index)").count == 2) }
        await store.close()
    }
}
