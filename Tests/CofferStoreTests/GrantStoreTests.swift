import CofferStore
import Foundation
import Testing

/// Grants in the SQLite store: created once, listed by grant id in pages, found by retiring principal
/// within a scope, deleted alone or with their key.
@Suite struct GrantStoreTests {
    static let scope = KeyScope(account: "111122223333", region: "us-east-1")

    static func grant(_ id: String, key: String = "k1", retiring: String? = nil) -> GrantRecord {
        GrantRecord(
            scope: scope, keyID: key, grantID: id, name: nil, grantee: "arn:aws:iam::111122223333:user/bob",
            retiringPrincipal: retiring, issuer: "arn:aws:iam::111122223333:root", operations: ["Decrypt", "Encrypt"],
            contextEquals: [["tenant", "a"]], contextSubset: nil, creationDate: 7)
    }

    @Test(arguments: StoreKind.available) func grantsAreKeptListedAndDeleted(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        let key = KeyRecord(
            scope: Self.scope, id: "k1", description: "", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: .enabled, creationDate: 1, policy: "{}")
        try await store.createKey(key, firstBackingKey: nil)
        #expect(
            await storeErrorCode { try await store.createGrant(Self.grant("g0", key: "missing")) }
                == .notFound)
        for id in ["g3", "g1", "g2"] {
            try await store.createGrant(
                Self.grant(id, retiring: id == "g2" ? "arn:aws:iam::111122223333:user/al" : nil))
        }
        #expect(await storeErrorCode { try await store.createGrant(Self.grant("g1")) } == .alreadyExists)
        #expect(try await store.grants(Self.scope, of: "k1", after: nil, limit: 2).map(\.grantID) == ["g1", "g2"])
        #expect(try await store.grants(Self.scope, of: "k1", after: "g2", limit: 2) == [Self.grant("g3")])
        #expect(
            try await store.retirableGrants(
                Self.scope, retiringPrincipal: "arn:aws:iam::111122223333:user/al", after: nil, limit: 10
            ).map(\.grantID) == ["g2"])
        #expect(
            try await store.retirableGrants(
                KeyScope(account: "111122223333", region: "eu-west-1"),
                retiringPrincipal: "arn:aws:iam::111122223333:user/al", after: nil, limit: 10
            ).isEmpty)
        try await store.deleteGrant(Self.scope, keyID: "k1", grantID: "g1")
        #expect(
            await storeErrorCode { try await store.deleteGrant(Self.scope, keyID: "k1", grantID: "g1") }
                == .notFound)
        try await store.deleteKey(Self.scope, id: "k1")
        #expect(try await store.grants(Self.scope, of: "k1", after: nil, limit: 10).isEmpty)
        await store.close()
    }
}
