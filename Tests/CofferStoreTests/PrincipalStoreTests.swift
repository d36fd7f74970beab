import CofferStore
import Foundation
import SQLiteNIO
import Testing

/// Principals and access keys in the SQLite store: uniqueness by the tables' keys, lookups by access key
/// id, key replacement and removal in one transaction each.
@Suite struct PrincipalStoreTests {
    static let alice = PrincipalRecord(
        arn: "arn:aws:iam::111122223333:user/alice", account: "111122223333", name: "alice", kind: "user",
        policy: #"{"Statement":[]}"#, creationDate: 5)

    static func key(_ id: String, of arn: String = alice.arn) -> AccessKeyRecord {
        AccessKeyRecord(accessKeyID: id, principalARN: arn, token: [1, 2, 3], creationDate: 6)
    }

    @Test(arguments: StoreKind.available) func principalsAndTheirKeysAreKeptFoundReplacedAndRemoved(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "111122223333", region: "us-east-1"))
        defer { database.remove() }
        let store = try await database.open()
        try await store.addPrincipal(Self.alice, key: Self.key("AKIAALICE1"))
        // The same ARN, or an access key id that is taken, fails on the constraint and adds nothing.
        #expect(
            await storeErrorCode { try await store.addPrincipal(Self.alice, key: Self.key("AKIAALICE9")) }
                == .alreadyExists)
        var bob = Self.alice
        bob.arn = "arn:aws:iam::111122223333:user/bob"
        bob.name = "bob"
        #expect(
            await storeErrorCode { try await store.addPrincipal(bob, key: Self.key("AKIAALICE1", of: bob.arn)) }
                == .alreadyExists)
        #expect(try await store.principals() == [Self.alice])
        #expect(try await store.accessKey("AKIAALICE9") == nil)

        let found = try #require(try await store.accessKey("AKIAALICE1"))
        #expect(found.principal == Self.alice)
        #expect(found.key == Self.key("AKIAALICE1"))

        // Rotation adds the new key and removes the old in one transaction; a taken id changes nothing.
        try await store.replaceAccessKeys(of: Self.alice.arn, adding: Self.key("AKIAALICE2"), removing: ["AKIAALICE1"])
        #expect(try await store.accessKeys(of: Self.alice.arn).map(\.accessKeyID) == ["AKIAALICE2"])
        try await store.addPrincipal(bob, key: Self.key("AKIABOB1", of: bob.arn))
        #expect(
            await storeErrorCode {
                try await store.replaceAccessKeys(
                    of: Self.alice.arn, adding: Self.key("AKIABOB1"), removing: ["AKIAALICE2"])
            } == .alreadyExists)
        #expect(try await store.accessKeys(of: Self.alice.arn).map(\.accessKeyID) == ["AKIAALICE2"])
        #expect(
            await storeErrorCode {
                try await store.replaceAccessKeys(
                    of: "arn:aws:iam::111122223333:user/nobody", adding: Self.key("X"), removing: [])
            } == .notFound)

        try await store.removePrincipal(Self.alice.arn)
        #expect(try await store.accessKey("AKIAALICE2") == nil)
        #expect(try await store.principals().map(\.name) == ["bob"])
        #expect(await storeErrorCode { try await store.removePrincipal(Self.alice.arn) } == .notFound)
        await store.close()
    }

    @Test func theToolsBesideAHostOpenOnlyAStoreOfThisSchema() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-existing-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A store of the schema before this one: a tool does not migrate it (only its owner knows the
        // scope an older store's keys move into).
        let scope = KeyScope(account: "111122223333", region: "us-east-1")
        await (try await SQLKeyStore.open(path: path, legacyScope: scope)).close()
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in ["ALTER TABLE keys DROP COLUMN version", "UPDATE schema_version SET version = 7"] {
            _ = try await connection.query(statement, [])
        }
        try await connection.close()
        #expect(await storeErrorCode { _ = try await SQLKeyStore.openExisting(path: path) } == .conflict)
        let migrated = try await SQLKeyStore.open(path: path, legacyScope: scope)
        await migrated.close()
        let existing = try await SQLKeyStore.openExisting(path: path)
        #expect(try await existing.principals().isEmpty)
        await existing.close()
    }
}
