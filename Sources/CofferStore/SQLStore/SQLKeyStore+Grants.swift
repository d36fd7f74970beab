import Foundation

/// Grants: one row per grant of a key, its operations and constraints as JSON arrays.
extension SQLKeyStore {
    public func createGrant(_ grant: GrantRecord) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(grant.scope, grant.keyID, c)
            guard
                try await c.query(
                    "SELECT 1 FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id = ?",
                    Self.binds(grant.scope) + [.text(grant.keyID), .text(grant.grantID)]
                ).isEmpty
            else { throw StoreError(.alreadyExists, "grant \(grant.grantID)") }
            _ = try await c.query(
                """
                INSERT INTO grants (account, region, key_id, grant_id, name, grantee, retiring_principal, issuer,
                  operations, context_equals, context_subset, creation_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                Self.binds(grant.scope) + [
                    .text(grant.keyID), .text(grant.grantID), grant.name.map { .text($0) } ?? .null,
                    .text(grant.grantee), grant.retiringPrincipal.map { .text($0) } ?? .null, .text(grant.issuer),
                    .text(Self.json(grant.operations)), grant.contextEquals.map { .text(Self.json($0)) } ?? .null,
                    grant.contextSubset.map { .text(Self.json($0)) } ?? .null, .integer(Int(grant.creationDate)),
                ])
        }
    }

    public func grants(
        _ scope: KeyScope, of keyID: String, after marker: String?, limit: Int
    ) async throws(StoreError) -> [GrantRecord] {
        try await read { c in
            try await c.query(
                """
                SELECT * FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id > ?
                  ORDER BY grant_id LIMIT ?
                """, Self.binds(scope) + [.text(keyID), .text(marker ?? ""), .integer(limit)]
            ).map(Self.grant)
        }
    }

    public func grant(_ scope: KeyScope, keyID: String, grantID: String) async throws(StoreError) -> GrantRecord? {
        try await read { c in
            try await c.query(
                "SELECT * FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id = ?",
                Self.binds(scope) + [.text(keyID), .text(grantID)]
            ).first.map(Self.grant)
        }
    }

    public func retirableGrants(
        _ scope: KeyScope, retiringPrincipal: String, after marker: String?, limit: Int
    ) async throws(StoreError) -> [GrantRecord] {
        try await read { c in
            try await c.query(
                """
                SELECT * FROM grants WHERE account = ? AND region = ? AND retiring_principal = ? AND grant_id > ?
                  ORDER BY grant_id LIMIT ?
                """, Self.binds(scope) + [.text(retiringPrincipal), .text(marker ?? ""), .integer(limit)]
            ).map(Self.grant)
        }
    }

    public func deleteGrant(_ scope: KeyScope, keyID: String, grantID: String) async throws(StoreError) {
        try await transaction { c in
            let binds = Self.binds(scope) + [.text(keyID), .text(grantID)]
            guard
                try await !c.query(
                    "SELECT 1 FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id = ?", binds
                ).isEmpty
            else { throw StoreError(.notFound, "grant \(grantID)") }
            _ = try await c.query(
                "DELETE FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id = ?", binds)
        }
    }

    private static func json<T: Encodable>(_ value: T) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        text.flatMap { try? JSONDecoder().decode(type, from: Data($0.utf8)) }
    }

    /// A stored grant; one whose constraints do not read allows no operation (never one without them).
    private static func grant(_ row: SQLRow) -> GrantRecord {
        let equals = row.column("context_equals")?.string
        let subset = row.column("context_subset")?.string
        let unreadable =
            (equals != nil && decode([[String]].self, equals) == nil)
            || (subset != nil && decode([[String]].self, subset) == nil)
        return GrantRecord(
            scope: scope(row), keyID: row.column("key_id")?.string ?? "", grantID: row.column("grant_id")?.string ?? "",
            name: row.column("name")?.string, grantee: row.column("grantee")?.string ?? "",
            retiringPrincipal: row.column("retiring_principal")?.string, issuer: row.column("issuer")?.string ?? "",
            operations: unreadable ? [] : decode([String].self, row.column("operations")?.string) ?? [],
            contextEquals: decode([[String]].self, row.column("context_equals")?.string),
            contextSubset: decode([[String]].self, row.column("context_subset")?.string),
            creationDate: Int64(row.column("creation_date")?.integer ?? 0))
    }
}
