/// The walk over every stored key token that the re-wrap job makes (``KeyStore/storedTokens(after:limit:)``).
extension SQLKeyStore {
    public func ping() async throws(StoreError) {
        try await read { c in _ = try await c.query("SELECT 1", []) }
    }

    public func storedTokens(after place: TokenPlace?, limit: Int) async throws(StoreError) -> [StoredToken] {
        let limit = max(0, limit)
        return try await read { c in
            var found: [StoredToken] = []
            var accessAfter: String?
            switch place {
            case nil, .backingKey:
                var seq: Int64 = 0
                if case .backingKey(let after)? = place { seq = after }
                for row in try await c.query(
                    "SELECT seq, token FROM backing_keys WHERE seq > ? ORDER BY seq LIMIT ?",
                    [.integer(Int(seq)), .integer(limit)])
                {
                    found.append(
                        StoredToken(
                            place: .backingKey(Int64(row.column("seq")?.integer ?? 0)),
                            token: Self.bytes(row.column("token"))))
                }
            case .accessKey(let id):
                accessAfter = id
            }
            guard found.count < limit else { return found }
            for row in try await c.query(
                "SELECT access_key_id, token FROM access_keys WHERE access_key_id > ? ORDER BY access_key_id LIMIT ?",
                [.text(accessAfter ?? ""), .integer(limit - found.count)])
            {
                found.append(
                    StoredToken(
                        place: .accessKey(row.column("access_key_id")?.string ?? ""),
                        token: Self.bytes(row.column("token"))))
            }
            return found
        }
    }

    public func replaceToken(
        at place: TokenPlace, expected: [UInt8], with new: [UInt8]
    ) async throws(StoreError) -> Bool {
        try await transaction(attachingAudit: false) { c in
            let replaced: [SQLRow]
            switch place {
            case .backingKey(let seq):
                replaced = try await c.query(
                    "UPDATE backing_keys SET token = ? WHERE seq = ? AND token = ? RETURNING seq",
                    [.blob(new), .integer(Int(seq)), .blob(expected)])
            case .accessKey(let id):
                replaced = try await c.query(
                    "UPDATE access_keys SET token = ? WHERE access_key_id = ? AND token = ? RETURNING access_key_id",
                    [.blob(new), .text(id), .blob(expected)])
            }
            return replaced.count == 1
        }
    }
}
