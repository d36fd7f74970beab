import CofferStore
import Foundation
import SQLiteNIO
import Testing

/// The key store on SQLite and on PostgreSQL: durability across reopening, atomic changes, pagination,
/// and concurrent callers; and SQLite's migration of a first-release file.
@Suite struct SQLKeyStoreTests {
    private static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-\(UUID().uuidString).sqlite").path
    }

    static let scope = KeyScope(account: "111122223333", region: "eu-west-1")

    private static func key(
        _ id: String, state: KeyRecord.State = .enabled, scope: KeyScope = Self.scope
    ) -> KeyRecord {
        KeyRecord(
            scope: scope, id: id, description: "key \(id)", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: state,
            creationDate: 1_800_000_000, policy: #"{"Version":"2012-10-17"}"#)
    }

    private static func backing(
        _ keyID: String, _ id: String, origin: BackingKeyRecord.Origin = .creation, scope: KeyScope = Self.scope
    ) -> BackingKeyRecord {
        BackingKeyRecord(
            scope: scope, keyID: keyID, backingKeyID: id, token: Array("token of \(id)".utf8), createdAt: 1_800_000_000,
            origin: origin)
    }

    @Test(arguments: StoreKind.available) func importedMaterialIsReplacedAtomicallyAndItsFieldsSurviveReopening(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        var store = try await database.open()
        var key = Self.key("x1", state: .pendingImport)
        key.origin = "EXTERNAL"
        try await store.createKey(key, firstBackingKey: nil)
        #expect(try await store.backingKeys(Self.scope, of: "x1").isEmpty)
        key.state = .enabled
        key.expirationModel = "KEY_MATERIAL_EXPIRES"
        key.validTo = 1_900_000_000
        key.keyMaterialID = String(repeating: "ab", count: 32)
        try await store.replaceBackingKeys(key, with: Self.backing("x1", "m1", origin: .imported))
        key.version += 1
        await store.close()
        store = try await database.open()
        #expect(try await store.key(Self.scope, id: "x1") == key)
        #expect(try await store.backingKeys(Self.scope, of: "x1").map(\.origin) == [.imported])
        // Deleting the material: the key and its backing keys change together; a failure changes neither.
        key.state = .pendingImport
        try await store.replaceBackingKeys(key, with: nil)
        #expect(try await store.backingKeys(Self.scope, of: "x1").isEmpty)
        #expect(try await store.key(Self.scope, id: "x1")?.state == .pendingImport)
        var missing = key
        missing.id = "nope"
        #expect(
            await storeErrorCode { try await store.replaceBackingKeys(missing, with: Self.backing("nope", "m2")) }
                == .notFound)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func everythingSurvivesReopening(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        var store = try await database.open()
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        var rotated = Self.key("k1")
        rotated.rotationEnabled = true
        rotated.rotationPeriodDays = 365
        try await store.rotate(rotated, newBackingKey: Self.backing("k1", "b2", origin: .onDemand))
        rotated.version += 1
        try await store.createAlias(
            AliasRecord(scope: Self.scope, name: "alias/app", keyID: "k1", creationDate: 1, lastUpdatedDate: 1))
        try await store.setTags([TagRecord(key: "team", value: "payments")], on: "k1", in: Self.scope)
        try await store.appendDomainToken(epoch: 0, der: [0x30, 0x00])
        await store.close()

        store = try await database.open()
        #expect(try await store.key(Self.scope, id: "k1") == rotated)
        #expect(try await store.backingKeys(Self.scope, of: "k1").map(\.backingKeyID) == ["b2", "b1"])
        #expect(try await store.backingKeys(Self.scope, of: "k1").first?.origin == .onDemand)
        #expect(try await store.alias(Self.scope, name: "alias/app")?.keyID == "k1")
        #expect(try await store.tags(Self.scope, of: "k1") == [TagRecord(key: "team", value: "payments")])
        #expect(try await store.domainTokens().map(\.epoch) == [0])
        await store.close()
    }

    @Test(arguments: StoreKind.available) func aFailedChangeLeavesNothingBehind(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        // The second key's backing key id collides: the key must not exist afterwards.
        #expect(
            await storeErrorCode {
                try await store.createKey(Self.key("k2"), firstBackingKey: Self.backing("k2", "b1"))
            }
                == .alreadyExists)
        #expect(try await store.key(Self.scope, id: "k2") == nil)
        // A rotation whose backing key collides leaves the key's metadata unchanged.
        var changed = Self.key("k1")
        changed.description = "changed"
        #expect(
            await storeErrorCode { try await store.rotate(changed, newBackingKey: Self.backing("k1", "b1")) }
                == .alreadyExists)
        #expect(try await store.key(Self.scope, id: "k1")?.description == "key k1")
        #expect(
            await storeErrorCode {
                try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b9"))
            }
                == .alreadyExists)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func aliasesTagsAndDeletion(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        try await store.createKey(Self.key("k2"), firstBackingKey: Self.backing("k2", "b2"))
        let alias = AliasRecord(scope: Self.scope, name: "alias/a", keyID: "k1", creationDate: 1, lastUpdatedDate: 1)
        try await store.createAlias(alias)
        #expect(await storeErrorCode { try await store.createAlias(alias) } == .alreadyExists)
        #expect(
            await storeErrorCode {
                try await store.createAlias(
                    AliasRecord(scope: Self.scope, name: "alias/b", keyID: "nope", creationDate: 1, lastUpdatedDate: 1))
            } == .notFound)
        try await store.updateAlias(
            AliasRecord(scope: Self.scope, name: "alias/a", keyID: "k2", creationDate: 1, lastUpdatedDate: 2))
        #expect(try await store.alias(Self.scope, name: "alias/a")?.keyID == "k2")
        #expect(try await store.listAliases(Self.scope, keyID: "k1", after: nil, limit: 10).isEmpty)
        #expect(await storeErrorCode { try await store.deleteAlias(Self.scope, name: "alias/zzz") } == .notFound)
        try await store.setTags(
            [TagRecord(key: "a", value: "1"), TagRecord(key: "b", value: "2")], on: "k2", in: Self.scope)
        try await store.setTags([TagRecord(key: "a", value: "3")], on: "k2", in: Self.scope)
        try await store.removeTags(["b"], from: "k2", in: Self.scope)
        #expect(try await store.tags(Self.scope, of: "k2") == [TagRecord(key: "a", value: "3")])
        try await store.deleteKey(Self.scope, id: "k2")
        #expect(try await store.key(Self.scope, id: "k2") == nil)
        #expect(try await store.alias(Self.scope, name: "alias/a") == nil)
        #expect(try await store.tags(Self.scope, of: "k2").isEmpty)
        #expect(try await store.backingKeys(Self.scope, of: "k2").isEmpty)
        #expect(await storeErrorCode { try await store.deleteKey(Self.scope, id: "k2") } == .notFound)
        #expect(await storeErrorCode { try await store.appendDomainToken(epoch: 3, der: [1]) } == nil)
        #expect(await storeErrorCode { try await store.appendDomainToken(epoch: 3, der: [1]) } == .alreadyExists)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func listingPagesByMarker(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        let ids = (0..<25).map { String(format: "key-%02d", $0) }
        for id in ids.shuffled() {
            try await store.createKey(Self.key(id), firstBackingKey: Self.backing(id, "b-\(id)"))
        }
        var seen: [String] = []
        var marker: String?
        repeat {
            let page = try await store.listKeys(Self.scope, after: marker, limit: 10)
            seen += page.map(\.id)
            marker = page.count == 10 ? page.last?.id : nil
        } while marker != nil
        #expect(seen == ids)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func concurrentWritersAllLand(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
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
        #expect(try await store.listKeys(Self.scope, after: nil, limit: 1000).count == 64)
        for index in 0..<64 { #expect(try await store.backingKeys(Self.scope, of: "c\(index)").count == 2) }
        await store.close()
    }

    @Test(arguments: StoreKind.available) func scopesKeepKeysAliasesAndTagsApart(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        let other = KeyScope(account: "111122223333", region: "us-east-1")
        let stranger = KeyScope(account: "444455556666", region: "eu-west-1")
        // The same key id and the same alias name live independently in two scopes.
        try await store.createKey(Self.key("k1"), firstBackingKey: Self.backing("k1", "b1"))
        try await store.createKey(
            Self.key("k1", scope: other), firstBackingKey: Self.backing("k1", "b1", scope: other))
        try await store.createKey(Self.key("k2", scope: other), firstBackingKey: Self.backing("k2", "b2", scope: other))
        try await store.createAlias(
            AliasRecord(scope: Self.scope, name: "alias/a", keyID: "k1", creationDate: 1, lastUpdatedDate: 1))
        try await store.createAlias(
            AliasRecord(scope: other, name: "alias/a", keyID: "k2", creationDate: 1, lastUpdatedDate: 1))
        try await store.setTags([TagRecord(key: "t", value: "here")], on: "k1", in: Self.scope)
        #expect(try await store.alias(Self.scope, name: "alias/a")?.keyID == "k1")
        #expect(try await store.alias(other, name: "alias/a")?.keyID == "k2")
        #expect(try await store.alias(stranger, name: "alias/a") == nil)
        #expect(try await store.key(stranger, id: "k1") == nil)
        #expect(try await store.listKeys(Self.scope, after: nil, limit: 10).map(\.id) == ["k1"])
        #expect(try await store.listKeys(other, after: nil, limit: 10).map(\.id) == ["k1", "k2"])
        #expect(try await store.tags(other, of: "k1").isEmpty)
        // An alias cannot point at a key of another scope.
        #expect(
            await storeErrorCode {
                try await store.createAlias(
                    AliasRecord(scope: stranger, name: "alias/b", keyID: "k1", creationDate: 1, lastUpdatedDate: 1))
            } == .notFound)
        try await store.deleteKey(other, id: "k1")
        #expect(try await store.key(Self.scope, id: "k1") != nil)
        #expect(try await store.listAllKeys(after: nil, limit: 10).map(\.scope) == [Self.scope, other])
        try await store.createKey(
            Self.key("k9", scope: stranger), firstBackingKey: Self.backing("k9", "b9", scope: stranger))
        try await store.removeAllKeys(of: "111122223333")
        #expect(try await store.listAllKeys(after: nil, limit: 10).map(\.id) == ["k9"], "other accounts stay")
        await store.close()
    }

    @Test func aSchemaOneDatabaseMovesIntoTheLegacyScope() async throws {
        let path = Self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A database as the first release wrote it: no account, no region.
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in [
            """
            CREATE TABLE keys (id TEXT PRIMARY KEY, description TEXT NOT NULL, key_usage TEXT NOT NULL,
              key_spec TEXT NOT NULL, state TEXT NOT NULL, creation_date INTEGER NOT NULL, deletion_date INTEGER,
              policy TEXT NOT NULL, rotation_enabled INTEGER NOT NULL, rotation_period_days INTEGER,
              next_rotation_date INTEGER)
            """,
            """
            CREATE TABLE backing_keys (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL REFERENCES keys(id),
              backing_key_id TEXT NOT NULL UNIQUE, token BLOB NOT NULL, created_at INTEGER NOT NULL, origin TEXT NOT NULL)
            """,
            "CREATE INDEX backing_keys_by_key ON backing_keys(key_id, seq)",
            """
            CREATE TABLE aliases (name TEXT PRIMARY KEY, key_id TEXT NOT NULL REFERENCES keys(id),
              creation_date INTEGER NOT NULL, last_updated_date INTEGER NOT NULL)
            """,
            "CREATE INDEX aliases_by_key ON aliases(key_id, name)",
            """
            CREATE TABLE tags (key_id TEXT NOT NULL REFERENCES keys(id), tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
              PRIMARY KEY (key_id, tag_key))
            """,
            "CREATE TABLE domain_tokens (epoch INTEGER PRIMARY KEY, der BLOB NOT NULL)",
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "INSERT INTO schema_version VALUES (1)",
            "INSERT INTO keys VALUES ('k1', 'old', 'ENCRYPT_DECRYPT', 'SYMMETRIC_DEFAULT', 'Enabled', 5, NULL, '{}', 1, 365, 9)",
            "INSERT INTO backing_keys (key_id, backing_key_id, token, created_at, origin) VALUES ('k1', 'b1', x'3000', 5, 'CREATION')",
            "INSERT INTO aliases VALUES ('alias/old', 'k1', 5, 6)",
            "INSERT INTO tags VALUES ('k1', 'team', 'payments')",
            "INSERT INTO domain_tokens VALUES (0, x'3000')",
        ] {
            _ = try await connection.query(statement, [])
        }
        try await connection.close()

        let store = try await SQLKeyStore.open(path: path, legacyScope: Self.scope)
        let key = try #require(try await store.key(Self.scope, id: "k1"))
        #expect(key.description == "old" && key.rotationPeriodDays == 365 && key.scope == Self.scope)
        #expect(key.primaryRegion == nil && key.pendingWindowDays == nil && key.origin == "AWS_KMS")
        #expect(try await store.backingKeys(Self.scope, of: "k1").map(\.token) == [[0x30, 0x00]])
        #expect(try await store.alias(Self.scope, name: "alias/old")?.lastUpdatedDate == 6)
        #expect(try await store.tags(Self.scope, of: "k1") == [TagRecord(key: "team", value: "payments")])
        #expect(try await store.domainTokens().map(\.epoch) == [0])
        // The migrated tables carry the new constraints.
        try await store.createKey(
            Self.key("k1", scope: KeyScope(account: "111122223333", region: "ap-south-1")),
            firstBackingKey: Self.backing("k1", "b1", scope: KeyScope(account: "111122223333", region: "ap-south-1")))
        await store.close()
    }
}
