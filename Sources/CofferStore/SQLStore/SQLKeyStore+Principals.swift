/// Principals and their access keys (`coffer principals`). Uniqueness is the tables' primary keys: a
/// second principal or access key id fails on the constraint inside the transaction.
extension SQLKeyStore {
    public func addPrincipal(_ principal: PrincipalRecord, key: AccessKeyRecord) async throws(StoreError) {
        try await transaction { c in
            do {
                _ = try await c.query(
                    """
                    INSERT INTO principals (arn, account, name, kind, policy, creation_date)
                      VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(principal.arn), .text(principal.account), .text(principal.name), .text(principal.kind),
                        principal.policy.map { .text($0) } ?? .null, .integer(Int(principal.creationDate)),
                    ])
                try await Self.insert(key, c)
            } catch let violation as SQLConstraintViolation where violation.kind == .unique {
                throw StoreError(.alreadyExists, "principal \(principal.arn) or access key \(key.accessKeyID)")
            }
        }
    }

    public func principals() async throws(StoreError) -> [PrincipalRecord] {
        try await read { c in
            try await c.query("SELECT * FROM principals ORDER BY arn", []).map(Self.principal)
        }
    }

    public func accessKeys(of principalARN: String) async throws(StoreError) -> [AccessKeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM access_keys WHERE principal_arn = ? ORDER BY creation_date, access_key_id",
                [.text(principalARN)]
            ).map(Self.accessKey)
        }
    }

    public func accessKey(
        _ accessKeyID: String
    ) async throws(StoreError) -> (key: AccessKeyRecord, principal: PrincipalRecord)? {
        try await read { c in
            guard
                let row = try await c.query("SELECT * FROM access_keys WHERE access_key_id = ?", [.text(accessKeyID)])
                    .first
            else { return nil }
            let key = Self.accessKey(row)
            guard
                let principal = try await c.query("SELECT * FROM principals WHERE arn = ?", [.text(key.principalARN)])
                    .first
            else { return nil }
            return (key, Self.principal(principal))
        }
    }

    public func replaceAccessKeys(
        of principalARN: String, adding key: AccessKeyRecord, removing: [String]?
    ) async throws(StoreError) {
        try await transaction { c in
            guard !(try await c.query("SELECT 1 FROM principals WHERE arn = ?", [.text(principalARN)]).isEmpty) else {
                throw StoreError(.notFound, "principal \(principalARN)")
            }
            if let removing {
                for id in removing {
                    _ = try await c.query(
                        "DELETE FROM access_keys WHERE access_key_id = ? AND principal_arn = ?",
                        [.text(id), .text(principalARN)])
                }
            } else {
                _ = try await c.query("DELETE FROM access_keys WHERE principal_arn = ?", [.text(principalARN)])
            }
            do {
                try await Self.insert(key, c)
            } catch let violation as SQLConstraintViolation where violation.kind == .unique {
                throw StoreError(.alreadyExists, "access key \(key.accessKeyID)")
            }
        }
    }

    public func removePrincipal(_ arn: String) async throws(StoreError) {
        try await transaction { c in
            guard !(try await c.query("SELECT 1 FROM principals WHERE arn = ?", [.text(arn)]).isEmpty) else {
                throw StoreError(.notFound, "principal \(arn)")
            }
            _ = try await c.query("DELETE FROM access_keys WHERE principal_arn = ?", [.text(arn)])
            _ = try await c.query("DELETE FROM principals WHERE arn = ?", [.text(arn)])
        }
    }

    private static func insert(_ key: AccessKeyRecord, _ c: any SQLConnection) async throws {
        _ = try await c.query(
            "INSERT INTO access_keys (access_key_id, principal_arn, token, creation_date) VALUES (?, ?, ?, ?)",
            [
                .text(key.accessKeyID), .text(key.principalARN), .blob(key.token),
                .integer(Int(key.creationDate)),
            ])
    }

    private static func principal(_ row: SQLRow) -> PrincipalRecord {
        PrincipalRecord(
            arn: row.column("arn")?.string ?? "", account: row.column("account")?.string ?? "",
            name: row.column("name")?.string ?? "", kind: row.column("kind")?.string ?? "",
            policy: row.column("policy")?.string, creationDate: Int64(row.column("creation_date")?.integer ?? 0))
    }

    private static func accessKey(_ row: SQLRow) -> AccessKeyRecord {
        AccessKeyRecord(
            accessKeyID: row.column("access_key_id")?.string ?? "",
            principalARN: row.column("principal_arn")?.string ?? "", token: bytes(row.column("token")),
            creationDate: Int64(row.column("creation_date")?.integer ?? 0))
    }
}
