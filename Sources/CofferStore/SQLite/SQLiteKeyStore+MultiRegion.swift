import NIOCore
import SQLiteNIO

/// Multi-Region keys: the keys of one account with one `mrk-` id, one per region. Their shared
/// properties (backing keys and rotation settings) are written to every related key in the transaction
/// that changes them, so no region ever has material another lacks.
extension SQLiteKeyStore {
    public func relatedKeys(account: String, id: String) async throws(StoreError) -> [KeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE account = ? AND id = ? AND primary_region IS NOT NULL ORDER BY region",
                [.text(account), .text(id)]
            ).map(Self.key)
        }
    }

    public func createReplica(_ replica: KeyRecord, backingKeys: [BackingKeyRecord]) async throws(StoreError) {
        try await transaction { c in
            guard try await Self.keyExists(replica.scope, replica.id, c) == false else {
                throw StoreError(.alreadyExists, "key \(replica.id) in \(replica.scope)")
            }
            try await Self.insert(replica, c)
            // Oldest first, so the newest stays the active one (highest sequence number).
            for backing in backingKeys.reversed() { try await Self.insert(backing, c) }
        }
    }

    public func updatePrimaryRegion(account: String, id: String, to region: String) async throws(StoreError) {
        try await transaction { c in
            let target = KeyScope(account: account, region: region)
            guard
                try await !c.query(
                    "SELECT 1 FROM keys WHERE account = ? AND region = ? AND id = ? AND primary_region IS NOT NULL",
                    Self.binds(target) + [.text(id)]
                ).isEmpty
            else { throw StoreError(.notFound, "key \(id) in \(target)") }
            _ = try await c.query(
                "UPDATE keys SET primary_region = ? WHERE account = ? AND id = ? AND primary_region IS NOT NULL",
                [.text(region), .text(account), .text(id)])
        }
    }

    /// After a change to a multi-Region primary key: its rotation settings, and a new backing key when
    /// given, go to every related key.
    static func shareRotation(
        of key: KeyRecord, newBackingKey: BackingKeyRecord? = nil, _ c: SQLiteConnection
    ) async throws {
        guard let primary = key.primaryRegion, primary == key.scope.region else { return }
        let others = try await c.query(
            "SELECT region FROM keys WHERE account = ? AND id = ? AND region <> ? AND primary_region IS NOT NULL",
            [.text(key.scope.account), .text(key.id), .text(key.scope.region)]
        ).compactMap { $0.column("region")?.string }
        for region in others {
            let scope = KeyScope(account: key.scope.account, region: region)
            _ = try await c.query(
                """
                UPDATE keys SET rotation_enabled = ?, rotation_period_days = ?, next_rotation_date = ?
                  WHERE account = ? AND region = ? AND id = ?
                """,
                [
                    .integer(key.rotationEnabled ? 1 : 0), key.rotationPeriodDays.map { .integer($0) } ?? .null,
                    key.nextRotationDate.map { .integer(Int($0)) } ?? .null,
                ] + binds(scope) + [.text(key.id)])
            if var backing = newBackingKey {
                backing.scope = scope
                try await insert(backing, c)
            }
        }
    }
}
