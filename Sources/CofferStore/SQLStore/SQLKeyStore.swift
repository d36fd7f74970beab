import Logging
import SQLiteNIO

/// The ``KeyStore`` over SQL: every operation written once against ``SQLBackend``, on SQLite (the
/// embedded default: one file, nothing to install) or PostgreSQL (several hosts on one database). Every
/// change runs in one transaction; a key row changes only at the version it was read at; uniqueness is
/// the tables' constraints.
public final class SQLKeyStore: KeyStore {
    let backend: any SQLBackend
    let auditBatch = AuditBatch()
    /// How many of the newest audit records are kept (nil: all of them). Only a store in memory sets it.
    let auditRetention: Int64?

    init(backend: any SQLBackend, auditRetention: Int64? = nil) {
        self.backend = backend
        self.auditRetention = auditRetention
    }

    /// Opens (creating if needed) the SQLite database at `path` and migrates it to ``schemaVersion``. Keys
    /// of a schema 1 database, which had no scopes, move into `legacyScope`.
    public static func open(
        path: String, legacyScope: KeyScope, logger: Logger = Logger(label: "coffer.store")
    ) async throws(StoreError) -> SQLKeyStore {
        SQLKeyStore(
            backend: try await SQLiteBackend.open(
                storage: .file(path: path), name: path, legacyScope: legacyScope, logger: logger))
    }

    /// Opens the existing SQLite database at `path` as it is, for the tools beside a host (`coffer audit`,
    /// `coffer principals`): `conflict` when its schema is not this build's, since only the host that
    /// owns it knows the scope an old database's keys move into. Nothing is created or migrated.
    public static func openExisting(
        path: String, logger: Logger = Logger(label: "coffer.store")
    ) async throws(StoreError) -> SQLKeyStore {
        SQLKeyStore(
            backend: try await SQLiteBackend.open(
                storage: .file(path: path), name: path, legacyScope: nil, logger: logger)
        )
    }

    /// A SQLite database in memory only (`coffer dev --ephemeral`): nothing is written to disk, and
    /// everything is gone when the store is closed. With `auditRetention` (at least 1), the audit log keeps
    /// at least that many of its newest records and fewer than ``retentionSlack`` more (a long-running server
    /// in memory would otherwise grow by each call's record, about 1.6 KB, for as long as it runs), and its
    /// chain is verified from the last record it dropped (the anchor).
    public static func openInMemory(
        auditRetention: Int64? = nil, logger: Logger = Logger(label: "coffer.store")
    ) async throws(StoreError)
        -> SQLKeyStore
    {
        precondition(auditRetention.map { $0 > 0 } ?? true, "an audit retention keeps at least one record")
        let store = SQLKeyStore(
            backend: try await SQLiteBackend.open(
                storage: .memory, name: "memory", legacyScope: KeyScope(account: "", region: ""), logger: logger),
            auditRetention: auditRetention)
        if auditRetention != nil {
            // In memory only, never migrated: the table exists for as long as this database does.
            try await store.transaction(attachingAudit: false) { c in _ = try await c.query(auditAnchorTable, []) }
        }
        return store
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// optionally `?sslmode=disable|prefer|require`; the password may come from `PGPASSWORD` instead) and,
    /// with `creatingSchema` (a host), creates the schema if the database has none; the tools beside a host
    /// open an existing store only.
    public static func openPostgres(
        url: String, creatingSchema: Bool = true, logger: Logger = Logger(label: "coffer.store")
    ) async throws(StoreError) -> SQLKeyStore {
        SQLKeyStore(backend: try await PostgresBackend.open(url: url, creatingSchema: creatingSchema, logger: logger))
    }

    /// Closes the database.
    public func close() async {
        await backend.close()
    }

    // MARK: Keys

    public func createKey(
        _ key: KeyRecord, firstBackingKey: BackingKeyRecord?, tags: [TagRecord]
    ) async throws(StoreError) {
        try await transaction { c in
            guard try await Self.keyExists(key.scope, key.id, c) == false else {
                throw StoreError(.alreadyExists, "key \(key.id) in \(key.scope)")
            }
            try await Self.insert(key, c)
            if let firstBackingKey { try await Self.insert(firstBackingKey, c) }
            try await Self.insert(tags, on: key.id, in: key.scope, c)
        }
    }

    public func replaceBackingKeys(_ key: KeyRecord, with backing: BackingKeyRecord?) async throws(StoreError) {
        try await transaction { c in
            try await Self.update(key, c)
            try await Self.shareMaterialID(of: key, c)
            _ = try await c.query(
                "DELETE FROM backing_keys WHERE account = ? AND region = ? AND key_id = ?",
                Self.binds(key.scope) + [.text(key.id)])
            if let backing { try await Self.insert(backing, c) }
        }
    }

    public func key(_ scope: KeyScope, id: String) async throws(StoreError) -> KeyRecord? {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE account = ? AND region = ? AND id = ?", Self.binds(scope) + [.text(id)]
            ).first.map(Self.key)
        }
    }

    public func listKeys(_ scope: KeyScope, after marker: String?, limit: Int) async throws(StoreError) -> [KeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?",
                Self.binds(scope) + [.text(marker ?? ""), .integer(limit)]
            ).map(Self.key)
        }
    }

    public func listAllKeys(after cursor: KeyRecord?, limit: Int) async throws(StoreError) -> [KeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE (account, region, id) > (?, ?, ?) ORDER BY account, region, id LIMIT ?",
                [
                    .text(cursor?.scope.account ?? ""), .text(cursor?.scope.region ?? ""), .text(cursor?.id ?? ""),
                    .integer(limit),
                ]
            ).map(Self.key)
        }
    }

    public func updateKey(_ key: KeyRecord) async throws(StoreError) {
        try await transaction { c in
            try await Self.update(key, c)
            try await Self.shareRotation(of: key, c)
        }
    }

    public func deleteKey(_ scope: KeyScope, id: String) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(scope, id, c)
            for table in ["backing_keys", "aliases", "tags", "grants", "keys"] {
                let column = table == "keys" ? "id" : "key_id"
                _ = try await c.query(
                    "DELETE FROM \(table) WHERE account = ? AND region = ? AND \(column) = ?",
                    Self.binds(scope) + [.text(id)])
            }
        }
    }

    public func backingKeys(_ scope: KeyScope, of keyID: String) async throws(StoreError) -> [BackingKeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM backing_keys WHERE account = ? AND region = ? AND key_id = ? ORDER BY seq DESC",
                Self.binds(scope) + [.text(keyID)]
            ).map(Self.backingKey)
        }
    }

    public func rotate(_ key: KeyRecord, newBackingKey: BackingKeyRecord) async throws(StoreError) {
        try await transaction { c in
            try await Self.update(key, c)
            try await Self.insert(newBackingKey, c)
            try await Self.shareRotation(of: key, newBackingKey: newBackingKey, c)
        }
    }

    public func removeAllKeys(of account: String) async throws(StoreError) {
        try await transaction { c in
            for table in ["backing_keys", "aliases", "tags", "grants", "keys"] {
                _ = try await c.query("DELETE FROM \(table) WHERE account = ?", [.text(account)])
            }
        }
    }

    // MARK: Aliases

    public func createAlias(_ alias: AliasRecord) async throws(StoreError) {
        try await transaction { c in
            guard try await Self.aliasExists(alias.scope, alias.name, c) == false else {
                throw StoreError(.alreadyExists, "alias \(alias.name)")
            }
            try await Self.requireKey(alias.scope, alias.keyID, c)
            _ = try await c.query(
                """
                INSERT INTO aliases (account, region, name, key_id, creation_date, last_updated_date)
                  VALUES (?, ?, ?, ?, ?, ?)
                """,
                Self.binds(alias.scope) + [
                    .text(alias.name), .text(alias.keyID), .integer(Int(alias.creationDate)),
                    .integer(Int(alias.lastUpdatedDate)),
                ])
        }
    }

    public func updateAlias(_ alias: AliasRecord) async throws(StoreError) {
        try await transaction { c in
            guard try await Self.aliasExists(alias.scope, alias.name, c) else {
                throw StoreError(.notFound, "alias \(alias.name)")
            }
            try await Self.requireKey(alias.scope, alias.keyID, c)
            _ = try await c.query(
                "UPDATE aliases SET key_id = ?, last_updated_date = ? WHERE account = ? AND region = ? AND name = ?",
                [.text(alias.keyID), .integer(Int(alias.lastUpdatedDate))] + Self.binds(alias.scope) + [
                    .text(alias.name)
                ])
        }
    }

    public func deleteAlias(_ scope: KeyScope, name: String) async throws(StoreError) {
        try await transaction { c in
            guard try await Self.aliasExists(scope, name, c) else { throw StoreError(.notFound, "alias \(name)") }
            _ = try await c.query(
                "DELETE FROM aliases WHERE account = ? AND region = ? AND name = ?", Self.binds(scope) + [.text(name)])
        }
    }

    public func alias(_ scope: KeyScope, name: String) async throws(StoreError) -> AliasRecord? {
        try await read { c in
            try await c.query(
                "SELECT * FROM aliases WHERE account = ? AND region = ? AND name = ?", Self.binds(scope) + [.text(name)]
            ).first.map(Self.alias)
        }
    }

    public func listAliases(
        _ scope: KeyScope, keyID: String?, after marker: String?, limit: Int
    ) async throws(StoreError) -> [AliasRecord] {
        try await read { c in
            let rows: [SQLRow]
            if let keyID {
                rows = try await c.query(
                    """
                    SELECT * FROM aliases WHERE account = ? AND region = ? AND key_id = ? AND name > ?
                      ORDER BY name LIMIT ?
                    """,
                    Self.binds(scope) + [.text(keyID), .text(marker ?? ""), .integer(limit)])
            } else {
                rows = try await c.query(
                    "SELECT * FROM aliases WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
                    Self.binds(scope) + [.text(marker ?? ""), .integer(limit)])
            }
            return rows.map(Self.alias)
        }
    }

    // MARK: Tags

    public func tags(_ scope: KeyScope, of keyID: String) async throws(StoreError) -> [TagRecord] {
        try await read { c in
            try await c.query(
                "SELECT tag_key, tag_value FROM tags WHERE account = ? AND region = ? AND key_id = ? ORDER BY tag_key",
                Self.binds(scope) + [.text(keyID)]
            ).map {
                TagRecord(key: $0.column("tag_key")?.string ?? "", value: $0.column("tag_value")?.string ?? "")
            }
        }
    }

    public func setTags(_ tags: [TagRecord], on keyID: String, in scope: KeyScope) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(scope, keyID, c)
            try await Self.insert(tags, on: keyID, in: scope, c)
        }
    }

    /// Adds or replaces `tags` of a key, inside the caller's transaction.
    static func insert(_ tags: [TagRecord], on keyID: String, in scope: KeyScope, _ c: any SQLConnection) async throws {
        for tag in tags {
            _ = try await c.query(
                """
                INSERT INTO tags (account, region, key_id, tag_key, tag_value) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (account, region, key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value
                """,
                binds(scope) + [.text(keyID), .text(tag.key), .text(tag.value)])
        }
    }

    public func removeTags(_ keys: [String], from keyID: String, in scope: KeyScope) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(scope, keyID, c)
            for key in keys {
                _ = try await c.query(
                    "DELETE FROM tags WHERE account = ? AND region = ? AND key_id = ? AND tag_key = ?",
                    Self.binds(scope) + [.text(keyID), .text(key)])
            }
        }
    }

    // MARK: Domain tokens

    public func appendDomainToken(epoch: Int64, der: [UInt8]) async throws(StoreError) {
        try await transaction { c in
            guard try await c.query("SELECT 1 FROM domain_tokens WHERE epoch = ?", [.integer(Int(epoch))]).isEmpty
            else {
                throw StoreError(.alreadyExists, "domain token of epoch \(epoch)")
            }
            _ = try await c.query(
                "INSERT INTO domain_tokens (epoch, der) VALUES (?, ?)",
                [.integer(Int(epoch)), .blob(der)])
        }
    }

    public func domainTokens() async throws(StoreError) -> [(epoch: Int64, der: [UInt8])] {
        try await read { c in
            try await c.query("SELECT epoch, der FROM domain_tokens ORDER BY epoch", []).map { row in
                (Int64(row.column("epoch")?.integer ?? 0), Self.bytes(row.column("der")))
            }
        }
    }

    // MARK: Plumbing

    func read<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await backend.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot.
    func snapshot<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await backend.snapshot(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one write transaction; any error rolls everything back. The request's pending audit
    /// record (``PendingAudit/current``), when it has not been written yet, is appended in the same
    /// transaction (in every attempt, when the database runs it again), unless `attachingAudit` is false
    /// (the audit log's own appends); when the transaction fails, the record is handed back to be written
    /// alone.
    @discardableResult
    func transaction<T: Sendable>(
        attachingAudit: Bool = true, durability: CommitDurability = .synced,
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws(StoreError) -> T {
        let pending = attachingAudit ? PendingAudit.current : nil
        let entry = pending?.take()
        do {
            return try await backend.transaction(durability: durability) { c in
                let result = try await body(c)
                if let entry { _ = try await self.appendAudits([entry], c) }
                return result
            }
        } catch {
            let failure = Self.storeError(error)
            // A COMMIT whose outcome is unknown may have written it: it is not written a second time.
            if entry != nil, failure.code != .outcomeUnknown { pending?.release() }
            throw failure
        }
    }

    /// The store's error for whatever a backend threw: its own, a broken constraint, or `database`.
    static func storeError(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError: error
        case let error as SQLConstraintViolation where error.kind == .unique:
            StoreError(.alreadyExists, "a unique constraint: \(error.detail)")
        case let error as SQLConstraintViolation:
            StoreError(.notFound, "the record it refers to is gone: \(error.detail)")
        default: StoreError(.database, "\(error)")
        }
    }

    /// Inside a write transaction on PostgreSQL: locks every row of the key `id` of `account` (each
    /// region's), so that the transactions that change one key or its multi-Region set run one after the
    /// other, as SQLite's single writer runs every transaction. Rows are locked in one order (by region).
    static func lockKeySet(account: String, id: String, _ c: any SQLConnection) async throws {
        guard c.dialect == .postgres else { return }
        _ = try await c.query(
            "SELECT region FROM keys WHERE account = ? AND id = ? ORDER BY region FOR UPDATE",
            [.text(account), .text(id)])
    }

    static func binds(_ scope: KeyScope) -> [SQLValue] { [.text(scope.account), .text(scope.region)] }

    static func keyExists(_ scope: KeyScope, _ id: String, _ c: any SQLConnection) async throws -> Bool {
        try await !c.query(
            "SELECT 1 FROM keys WHERE account = ? AND region = ? AND id = ?", binds(scope) + [.text(id)]
        ).isEmpty
    }

    private static func aliasExists(_ scope: KeyScope, _ name: String, _ c: any SQLConnection) async throws -> Bool {
        try await !c.query(
            "SELECT 1 FROM aliases WHERE account = ? AND region = ? AND name = ?", binds(scope) + [.text(name)]
        ).isEmpty
    }

    /// Inside a write transaction: the key must exist; it is locked until the transaction ends
    /// (``lockKeySet(account:id:_:)``).
    static func requireKey(_ scope: KeyScope, _ id: String, _ c: any SQLConnection) async throws {
        try await lockKeySet(account: scope.account, id: id, c)
        guard try await keyExists(scope, id, c) else { throw StoreError(.notFound, "key \(id)") }
    }

    static func insert(_ key: KeyRecord, _ c: any SQLConnection) async throws {
        _ = try await c.query(
            """
            INSERT INTO keys (description, key_usage, key_spec, state, creation_date, deletion_date, policy,
              rotation_enabled, rotation_period_days, next_rotation_date, origin, expiration_model, valid_to,
              key_material_id, primary_region, pending_window_days, account, region, id)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, keyBinds(key))
    }

    /// Writes `key` over its row if the row is still at `key.version` (and moves it to the next one);
    /// `stale` when another change came first, `notFound` without the row.
    static func update(_ key: KeyRecord, _ c: any SQLConnection) async throws {
        try await requireKey(key.scope, key.id, c)
        let updated = try await c.query(
            """
            UPDATE keys SET description = ?, key_usage = ?, key_spec = ?, state = ?, creation_date = ?, deletion_date = ?,
              policy = ?, rotation_enabled = ?, rotation_period_days = ?, next_rotation_date = ?, origin = ?,
              expiration_model = ?, valid_to = ?, key_material_id = ?, pending_window_days = ?, version = version + 1
              WHERE account = ? AND region = ? AND id = ? AND version = ? RETURNING version
            """, keyBinds(key, includingPrimaryRegion: false) + [.integer(Int(key.version))])
        guard updated.count == 1 else {
            throw StoreError(.stale, "key \(key.id) changed after version \(key.version)")
        }
    }

    static func insert(_ backing: BackingKeyRecord, _ c: any SQLConnection) async throws {
        guard
            try await c.query(
                "SELECT 1 FROM backing_keys WHERE account = ? AND region = ? AND backing_key_id = ?",
                binds(backing.scope) + [.text(backing.backingKeyID)]
            ).isEmpty
        else {
            throw StoreError(.alreadyExists, "backing key \(backing.backingKeyID)")
        }
        try await requireKey(backing.scope, backing.keyID, c)
        _ = try await c.query(
            """
            INSERT INTO backing_keys (account, region, key_id, backing_key_id, token, created_at, origin)
              VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            binds(backing.scope) + [
                .text(backing.keyID), .text(backing.backingKeyID), .blob(backing.token),
                .integer(Int(backing.createdAt)), .text(backing.origin.rawValue),
            ])
    }

    /// The key's columns, scope and id last (the order both INSERT and UPDATE bind them in); UPDATE leaves
    /// the primary region alone.
    static func keyBinds(_ key: KeyRecord, includingPrimaryRegion: Bool = true) -> [SQLValue] {
        [
            .text(key.description), .text(key.keyUsage), .text(key.keySpec), .text(key.state.rawValue),
            .integer(Int(key.creationDate)), key.deletionDate.map { .integer(Int($0)) } ?? .null, .text(key.policy),
            .integer(key.rotationEnabled ? 1 : 0), key.rotationPeriodDays.map { .integer($0) } ?? .null,
            key.nextRotationDate.map { .integer(Int($0)) } ?? .null, .text(key.origin),
            key.expirationModel.map { .text($0) } ?? .null, key.validTo.map { .integer(Int($0)) } ?? .null,
            key.keyMaterialID.map { .text($0) } ?? .null,
        ] + (includingPrimaryRegion ? [key.primaryRegion.map { .text($0) } ?? .null] : [])
            + [key.pendingWindowDays.map { .integer($0) } ?? .null] + binds(key.scope) + [.text(key.id)]
    }

    static func scope(_ row: SQLRow) -> KeyScope {
        KeyScope(account: row.column("account")?.string ?? "", region: row.column("region")?.string ?? "")
    }

    static func key(_ row: SQLRow) -> KeyRecord {
        KeyRecord(
            scope: scope(row), id: row.column("id")?.string ?? "", description: row.column("description")?.string ?? "",
            keyUsage: row.column("key_usage")?.string ?? "", keySpec: row.column("key_spec")?.string ?? "",
            state: KeyRecord.State(rawValue: row.column("state")?.string ?? "") ?? .disabled,
            creationDate: Int64(row.column("creation_date")?.integer ?? 0),
            deletionDate: row.column("deletion_date")?.integer.map(Int64.init),
            policy: row.column("policy")?.string ?? "",
            rotationEnabled: row.column("rotation_enabled")?.integer == 1,
            rotationPeriodDays: row.column("rotation_period_days")?.integer,
            nextRotationDate: row.column("next_rotation_date")?.integer.map(Int64.init),
            origin: row.column("origin")?.string ?? "AWS_KMS",
            expirationModel: row.column("expiration_model")?.string,
            validTo: row.column("valid_to")?.integer.map(Int64.init),
            keyMaterialID: row.column("key_material_id")?.string,
            primaryRegion: row.column("primary_region")?.string,
            pendingWindowDays: row.column("pending_window_days")?.integer,
            version: Int64(row.column("version")?.integer ?? 0))
    }

    static func backingKey(_ row: SQLRow) -> BackingKeyRecord {
        BackingKeyRecord(
            scope: scope(row), keyID: row.column("key_id")?.string ?? "",
            backingKeyID: row.column("backing_key_id")?.string ?? "",
            token: bytes(row.column("token")), createdAt: Int64(row.column("created_at")?.integer ?? 0),
            origin: BackingKeyRecord.Origin(rawValue: row.column("origin")?.string ?? "") ?? .creation)
    }

    private static func alias(_ row: SQLRow) -> AliasRecord {
        AliasRecord(
            scope: scope(row), name: row.column("name")?.string ?? "", keyID: row.column("key_id")?.string ?? "",
            creationDate: Int64(row.column("creation_date")?.integer ?? 0),
            lastUpdatedDate: Int64(row.column("last_updated_date")?.integer ?? 0))
    }

    static func bytes(_ data: SQLValue?) -> [UInt8] {
        if case .blob(let bytes)? = data { return bytes }
        return []
    }
}
