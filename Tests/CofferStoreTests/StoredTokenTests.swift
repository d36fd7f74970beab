import CofferStore
import Foundation
import Testing

/// The walk over every stored token that the re-wrap job makes: backing keys by row, then access keys by
/// id, page by page without skipping or repeating; and the conditional replace.
@Suite struct StoredTokenTests {
    static let scope = KeyScope(account: "111122223333", region: "us-east-1")

    @Test(arguments: StoreKind.available) func everyTokenIsWalkedOnceInOrderAndReplacedOnlyIfUnchanged(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: Self.scope)
        defer { database.remove() }
        let store = try await database.open()
        #expect(try await store.storedTokens(after: nil, limit: 10).isEmpty)
        for k in 0..<3 {
            let key = KeyRecord(
                scope: Self.scope, id: "k\(k)", description: "", keyUsage: "ENCRYPT_DECRYPT",
                keySpec: "SYMMETRIC_DEFAULT", state: .enabled, creationDate: 1, policy: "{}")
            try await store.createKey(
                key,
                firstBackingKey: BackingKeyRecord(
                    scope: Self.scope, keyID: key.id, backingKeyID: "b\(k)", token: [UInt8(k)], createdAt: 1,
                    origin: .creation))
        }
        let principal = PrincipalRecord(
            arn: "arn:aws:iam::111122223333:user/a", account: "111122223333", name: "a", kind: "user", policy: nil,
            creationDate: 1)
        try await store.addPrincipal(
            principal,
            key: AccessKeyRecord(accessKeyID: "AKIAB", principalARN: principal.arn, token: [20], creationDate: 1))
        try await store.replaceAccessKeys(
            of: principal.arn,
            adding: AccessKeyRecord(accessKeyID: "AKIAA", principalARN: principal.arn, token: [21], creationDate: 1),
            removing: [])

        for limit in 1...6 {
            var seen: [StoredToken] = []
            var after: TokenPlace?
            while true {
                let page = try await store.storedTokens(after: after, limit: limit)
                #expect(page.count <= limit)
                seen += page
                guard page.count == limit, let last = page.last else { break }
                after = last.place
            }
            #expect(seen.map(\.token) == [[0], [1], [2], [21], [20]], "limit \(limit)")
            #expect(seen.map(\.place) == seen.map(\.place).sorted())
            if case .accessKey("AKIAA") = seen[3].place {} else { Issue.record("access keys by id") }
        }

        let all = try await store.storedTokens(after: nil, limit: 10)
        #expect(try await store.replaceToken(at: all[1].place, expected: [1], with: [9]))
        #expect(try await store.replaceToken(at: all[1].place, expected: [1], with: [8]) == false)
        #expect(try await store.replaceToken(at: all[4].place, expected: [20], with: [7]))
        #expect(try await store.replaceToken(at: .accessKey("AKIAGONE"), expected: [20], with: [7]) == false)
        #expect(try await store.replaceToken(at: .backingKey(999), expected: [0], with: [7]) == false)
        #expect(try await store.storedTokens(after: nil, limit: 10).map(\.token) == [[0], [9], [2], [21], [7]])
        await store.close()
    }
}
