/// Multi-Region keys: the keys of one account with one `mrk-` id, one per region. Their shared
/// properties (backing keys and rotation settings) are written to every related key in the transaction
/// that changes them, so no region ever has material another lacks.
extension SQLKeyStore {
    public func relatedKeys(account: String, id: String) async throws(StoreError) -> [KeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE account = ? AND id = ? AND primary_region IS NOT NULL ORDER BY region",
                [.text(account), .text(id)]
            ).map(Self.key)
        }
    }

    public func createReplica(
        of primary: KeyScope, id: String, in region: String, description: String, policy: String, createdAt: Int64
    ) async throws(StoreError) -> KeyRecord {
        let replicaScope = KeyScope(account: primary.account, region: region)
        return try await transaction { c in
            try await Self.lockKeySet(account: primary.account, id: id, c)
            guard
                let source = try await c.query(
                    "SELECT * FROM keys WHERE account = ? AND region = ? AND id = ?", Self.binds(primary) + [.text(id)]
                ).first.map(Self.key)
            else { throw StoreError(.notFound, "key \(id) in \(primary)") }
            guard source.primaryRegion == primary.region,
                source.state != .pendingDeletion, source.state != .pendingReplicaDeletion
            else { throw StoreError(.conflict, "key \(id) in \(primary) is no longer a primary that can replicate") }
            guard try await Self.keyExists(replicaScope, id, c) == false else {
                throw StoreError(.alreadyExists, "key \(id) in \(replicaScope)")
            }
            let imported = source.origin == "EXTERNAL"
            let replica = KeyRecord(
                scope: replicaScope, id: id, description: description, keyUsage: source.keyUsage,
                keySpec: source.keySpec, state: imported ? .pendingImport : .enabled, creationDate: createdAt,
                policy: policy, rotationEnabled: source.rotationEnabled, rotationPeriodDays: source.rotationPeriodDays,
                nextRotationDate: source.nextRotationDate, origin: source.origin,
                keyMaterialID: imported ? source.keyMaterialID : nil, primaryRegion: source.primaryRegion)
            try await Self.insert(replica, c)
            if !imported {
                // Every backing key, oldest first, so the newest stays the active one.
                _ = try await c.query(
                    """
                    INSERT INTO backing_keys (account, region, key_id, backing_key_id, token, created_at, origin)
                      SELECT account, ?, key_id, backing_key_id, token, created_at, origin FROM backing_keys
                      WHERE account = ? AND region = ? AND key_id = ? ORDER BY seq
                    """, [.text(region)] + Self.binds(primary) + [.text(id)])
            }
            return replica
        }
    }

    public func scheduleDeletion(
        _ scope: KeyScope, id: String, windowDays: Int, now: Int64
    ) async throws(StoreError) -> KeyRecord {
        return try await transaction { c in
            try await Self.lockKeySet(account: scope.account, id: id, c)
            guard
                var key = try await c.query(
                    "SELECT * FROM keys WHERE account = ? AND region = ? AND id = ?", Self.binds(scope) + [.text(id)]
                ).first.map(Self.key)
            else { throw StoreError(.notFound, "key \(id) in \(scope)") }
            let replicas =
                key.primaryRegion == scope.region
                ? try await c.query(
                    "SELECT 1 FROM keys WHERE account = ? AND id = ? AND region <> ? AND primary_region IS NOT NULL",
                    [.text(scope.account), .text(id), .text(scope.region)]
                ).count : 0
            if replicas > 0 {
                key.state = .pendingReplicaDeletion
                key.deletionDate = nil
                key.pendingWindowDays = windowDays
            } else {
                key.state = .pendingDeletion
                key.deletionDate = now + Int64(windowDays) * 86_400
                key.pendingWindowDays = nil
            }
            _ = try await c.query(
                """
                UPDATE keys SET state = ?, deletion_date = ?, pending_window_days = ?, version = version + 1
                  WHERE account = ? AND region = ? AND id = ?
                """,
                [
                    .text(key.state.rawValue), key.deletionDate.map { .integer(Int($0)) } ?? .null,
                    key.pendingWindowDays.map { .integer($0) } ?? .null,
                ] + Self.binds(scope) + [.text(id)])
            key.version += 1
            return key
        }
    }

    public func startDeletionWindow(_ scope: KeyScope, id: String, now: Int64) async throws(StoreError) -> KeyRecord? {
        return try await transaction { c in
            try await Self.lockKeySet(account: scope.account, id: id, c)
            let started = try await c.query(
                """
                UPDATE keys SET state = 'PendingDeletion',
                  deletion_date = ? + COALESCE(pending_window_days, 30) * 86400, pending_window_days = NULL,
                  version = version + 1
                  WHERE account = ? AND region = ? AND id = ? AND state = 'PendingReplicaDeletion'
                  AND NOT EXISTS (SELECT 1 FROM keys AS other WHERE other.account = keys.account
                    AND other.id = keys.id AND other.region <> keys.region AND other.primary_region IS NOT NULL)
                  RETURNING 1 AS started
                """, [.integer(Int(now))] + Self.binds(scope) + [.text(id)])
            guard started.count == 1 else { return nil }
            return try await c.query(
                "SELECT * FROM keys WHERE account = ? AND region = ? AND id = ?", Self.binds(scope) + [.text(id)]
            ).first.map(Self.key)
        }
    }

    public func updatePrimaryRegion(account: String, id: String, to region: String) async throws(StoreError) {
        try await transaction { c in
            try await Self.lockKeySet(account: account, id: id, c)
            let target = KeyScope(account: account, region: region)
            guard
                try await !c.query(
                    "SELECT 1 FROM keys WHERE account = ? AND region = ? AND id = ? AND primary_region IS NOT NULL",
                    Self.binds(target) + [.text(id)]
                ).isEmpty
            else { throw StoreError(.notFound, "key \(id) in \(target)") }
            _ = try await c.query(
                """
                UPDATE keys SET primary_region = ?, version = version + 1
                  WHERE account = ? AND id = ? AND primary_region IS NOT NULL
                """,
                [.text(region), .text(account), .text(id)])
        }
    }

    /// After a change to a multi-Region primary key: its rotation settings, and a new backing key when
    /// given, go to every related key.
    static func shareRotation(
        of key: KeyRecord, newBackingKey: BackingKeyRecord? = nil, _ c: any SQLConnection
    ) async throws {
        // The primary region as the database has it now, not as the caller's copy says.
        let stored = try await c.query(
            "SELECT primary_region FROM keys WHERE account = ? AND region = ? AND id = ?",
            binds(key.scope) + [.text(key.id)]
        ).first?.column("primary_region")?.string
        guard let stored, stored == key.scope.region else { return }
        let others = try await c.query(
            "SELECT region FROM keys WHERE account = ? AND id = ? AND region <> ? AND primary_region IS NOT NULL",
            [.text(key.scope.account), .text(key.id), .text(key.scope.region)]
        ).compactMap { $0.column("region")?.string }
        for region in others {
            let scope = KeyScope(account: key.scope.account, region: region)
            _ = try await c.query(
                """
                UPDATE keys SET rotation_enabled = ?, rotation_period_days = ?, next_rotation_date = ?,
                  version = version + 1 WHERE account = ? AND region = ? AND id = ?
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

    /// After imported material is set on a multi-Region key: the set has one material id. Another id on a
    /// related key is a `conflict`; related keys without one take it (so each replica takes only this
    /// material).
    static func shareMaterialID(of key: KeyRecord, _ c: any SQLConnection) async throws {
        guard let materialID = key.keyMaterialID,
            try await c.query(
                "SELECT primary_region FROM keys WHERE account = ? AND region = ? AND id = ?",
                binds(key.scope) + [.text(key.id)]
            ).first?.column("primary_region")?.string != nil
        else { return }
        let account: [SQLValue] = [.text(key.scope.account), .text(key.id)]
        guard
            try await c.query(
                """
                SELECT 1 FROM keys WHERE account = ? AND id = ? AND primary_region IS NOT NULL
                  AND key_material_id IS NOT NULL AND key_material_id <> ?
                """, account + [.text(materialID)]
            ).isEmpty
        else { throw StoreError(.conflict, "a related key of \(key.id) has other key material") }
        _ = try await c.query(
            """
            UPDATE keys SET key_material_id = ?, version = version + 1 WHERE account = ? AND id = ?
              AND primary_region IS NOT NULL AND key_material_id IS NULL
            """, [.text(materialID)] + account)
    }
}
