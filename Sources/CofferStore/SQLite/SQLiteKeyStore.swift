import Logging
import NIOCore
import SQLiteNIO

/// The embedded ``KeyStore``: one SQLite file (WAL journal, `synchronous=FULL`), schema migrations by
/// version, every change in a transaction. SQLite itself comes with sqlite-nio, so nothing is installed.
public final class SQLiteKeyStore: KeyStore {
    /// The schema version this build writes.
    public static let schemaVersion = 1

    private let connection: SQLiteConnection
    private let jobs = SerialJobs()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path` and migrates it to ``schemaVersion``.
    public static func open(
        path: String, logger: Logger = Logger(label: "coffer.store")
    ) async throws(StoreError) -> SQLiteKeyStore {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError(.database, "cannot open \(path): \(error)")
        }
        let store = SQLiteKeyStore(connection: connection)
        try await store.migrate()
        return store
    }

    /// Closes the database.
    public func close() async {
        try? await connection.close()
    }

    // MARK: Schema

    private static let migrations: [[String]] = [
        [
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
        ]
    ]

    private func migrate() async throws(StoreError) {
        // Pragmas cannot run inside a transaction.
        try await transaction(transactional: false) { c in
            _ = try await c.query("PRAGMA journal_mode=WAL", [])
            _ = try await c.query("PRAGMA synchronous=FULL", [])
            _ = try await c.query("PRAGMA foreign_keys=ON", [])
        }
        try await transaction { c in
            _ = try await c.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", [])
            let rows = try await c.query("SELECT version FROM schema_version", [])
            let current = rows.first?.column("version")?.integer ?? 0
            guard current <= Self.schemaVersion else {
                throw StoreError(
                    .database, "the database has schema \(current); this build knows up to \(Self.schemaVersion)")
            }
            for version in current..<Self.schemaVersion {
                for statement in Self.migrations[version] { _ = try await c.query(statement, []) }
            }
            _ = try await c.query("DELETE FROM schema_version", [])
            _ = try await c.query("INSERT INTO schema_version (version) VALUES (?)", [.integer(Self.schemaVersion)])
        }
    }

    // MARK: Keys

    public func createKey(_ key: KeyRecord, firstBackingKey: BackingKeyRecord) async throws(StoreError) {
        try await transaction { c in
            guard try await c.query("SELECT 1 FROM keys WHERE id = ?", [.text(key.id)]).isEmpty else {
                throw StoreError(.alreadyExists, "key \(key.id)")
            }
            try await Self.insert(key, c)
            try await Self.insert(firstBackingKey, c)
        }
    }

    public func key(id: String) async throws(StoreError) -> KeyRecord? {
        try await read { c in try await c.query("SELECT * FROM keys WHERE id = ?", [.text(id)]).first.map(Self.key) }
    }

    public func listKeys(after marker: String?, limit: Int) async throws(StoreError) -> [KeyRecord] {
        try await read { c in
            try await c.query(
                "SELECT * FROM keys WHERE id > ? ORDER BY id LIMIT ?", [.text(marker ?? ""), .integer(limit)]
            ).map(Self.key)
        }
    }

    public func updateKey(_ key: KeyRecord) async throws(StoreError) {
        try await transaction { c in try await Self.update(key, c) }
    }

    public func deleteKey(id: String) async throws(StoreError) {
        try await transaction { c in
            guard try await !c.query("SELECT 1 FROM keys WHERE id = ?", [.text(id)]).isEmpty else {
                throw StoreError(.notFound, "key \(id)")
            }
            for table in ["backing_keys", "aliases", "tags"] {
                _ = try await c.query("DELETE FROM \(table) WHERE key_id = ?", [.text(id)])
            }
            _ = try await c.query("DELETE FROM keys WHERE id = ?", [.text(id)])
        }
    }

    public func backingKeys(of keyID: String) async throws(StoreError) -> [BackingKeyRecord] {
        try await read { c in
            try await c.query("SELECT * FROM backing_keys WHERE key_id = ? ORDER BY seq DESC", [.text(keyID)]).map(
                Self.backingKey)
        }
    }

    public func rotate(_ key: KeyRecord, newBackingKey: BackingKeyRecord) async throws(StoreError) {
        try await transaction { c in
            try await Self.update(key, c)
            try await Self.insert(newBackingKey, c)
        }
    }

    // MARK: Aliases

    public func createAlias(_ alias: AliasRecord) async throws(StoreError) {
        try await transaction { c in
            guard try await c.query("SELECT 1 FROM aliases WHERE name = ?", [.text(alias.name)]).isEmpty else {
                throw StoreError(.alreadyExists, "alias \(alias.name)")
            }
            try await Self.requireKey(alias.keyID, c)
            _ = try await c.query(
                "INSERT INTO aliases (name, key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?)",
                [
                    .text(alias.name), .text(alias.keyID), .integer(Int(alias.creationDate)),
                    .integer(Int(alias.lastUpdatedDate)),
                ])
        }
    }

    public func updateAlias(_ alias: AliasRecord) async throws(StoreError) {
        try await transaction { c in
            guard try await !c.query("SELECT 1 FROM aliases WHERE name = ?", [.text(alias.name)]).isEmpty else {
                throw StoreError(.notFound, "alias \(alias.name)")
            }
            try await Self.requireKey(alias.keyID, c)
            _ = try await c.query(
                "UPDATE aliases SET key_id = ?, last_updated_date = ? WHERE name = ?",
                [.text(alias.keyID), .integer(Int(alias.lastUpdatedDate)), .text(alias.name)])
        }
    }

    public func deleteAlias(name: String) async throws(StoreError) {
        try await transaction { c in
            guard try await !c.query("SELECT 1 FROM aliases WHERE name = ?", [.text(name)]).isEmpty else {
                throw StoreError(.notFound, "alias \(name)")
            }
            _ = try await c.query("DELETE FROM aliases WHERE name = ?", [.text(name)])
        }
    }

    public func alias(name: String) async throws(StoreError) -> AliasRecord? {
        try await read { c in
            try await c.query("SELECT * FROM aliases WHERE name = ?", [.text(name)]).first.map(Self.alias)
        }
    }

    public func listAliases(keyID: String?, after marker: String?, limit: Int) async throws(StoreError) -> [AliasRecord]
    {
        try await read { c in
            let rows: [SQLiteRow]
            if let keyID {
                rows = try await c.query(
                    "SELECT * FROM aliases WHERE key_id = ? AND name > ? ORDER BY name LIMIT ?",
                    [.text(keyID), .text(marker ?? ""), .integer(limit)])
            } else {
                rows = try await c.query(
                    "SELECT * FROM aliases WHERE name > ? ORDER BY name LIMIT ?",
                    [.text(marker ?? ""), .integer(limit)])
            }
            return rows.map(Self.alias)
        }
    }

    // MARK: Tags

    public func tags(of keyID: String) async throws(StoreError) -> [TagRecord] {
        try await read { c in
            try await c.query("SELECT tag_key, tag_value FROM tags WHERE key_id = ? ORDER BY tag_key", [.text(keyID)])
                .map {
                    TagRecord(key: $0.column("tag_key")?.string ?? "", value: $0.column("tag_value")?.string ?? "")
                }
        }
    }

    public func setTags(_ tags: [TagRecord], on keyID: String) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(keyID, c)
            for tag in tags {
                _ = try await c.query(
                    "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                    [.text(keyID), .text(tag.key), .text(tag.value)])
            }
        }
    }

    public func removeTags(_ keys: [String], from keyID: String) async throws(StoreError) {
        try await transaction { c in
            try await Self.requireKey(keyID, c)
            for key in keys {
                _ = try await c.query("DELETE FROM tags WHERE key_id = ? AND tag_key = ?", [.text(keyID), .text(key)])
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
                [.integer(Int(epoch)), .blob(ByteBuffer(bytes: der))])
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

    private func read<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) async throws -> T
    ) async throws(StoreError) -> T {
        let connection = self.connection
        do {
            return try await jobs.run { try await body(connection) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "\(error)")
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls everything back.
    private func transaction(
        transactional: Bool = true, _ body: @escaping @Sendable (SQLiteConnection) async throws -> Void
    ) async throws(StoreError) {
        try await read { c in
            if transactional { _ = try await c.query("BEGIN IMMEDIATE", []) }
            do {
                try await body(c)
                if transactional { _ = try await c.query("COMMIT", []) }
            } catch {
                if transactional { _ = try? await c.query("ROLLBACK", []) }
                throw error
            }
        }
    }

    private static func requireKey(_ id: String, _ c: SQLiteConnection) async throws {
        guard try await !c.query("SELECT 1 FROM keys WHERE id = ?", [.text(id)]).isEmpty else {
            throw StoreError(.notFound, "key \(id)")
        }
    }

    private static func insert(_ key: KeyRecord, _ c: SQLiteConnection) async throws {
        _ = try await c.query(
            """
            INSERT INTO keys (id, description, key_usage, key_spec, state, creation_date, deletion_date, policy,
              rotation_enabled, rotation_period_days, next_rotation_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, keyBinds(key))
    }

    private static func update(_ key: KeyRecord, _ c: SQLiteConnection) async throws {
        try await requireKey(key.id, c)
        var binds = keyBinds(key)
        binds.append(binds.removeFirst())
        _ = try await c.query(
            """
            UPDATE keys SET description = ?, key_usage = ?, key_spec = ?, state = ?, creation_date = ?, deletion_date = ?,
              policy = ?, rotation_enabled = ?, rotation_period_days = ?, next_rotation_date = ? WHERE id = ?
            """, binds)
    }

    private static func insert(_ backing: BackingKeyRecord, _ c: SQLiteConnection) async throws {
        guard
            try await c.query("SELECT 1 FROM backing_keys WHERE backing_key_id = ?", [.text(backing.backingKeyID)])
                .isEmpty
        else {
            throw StoreError(.alreadyExists, "backing key \(backing.backingKeyID)")
        }
        try await requireKey(backing.keyID, c)
        _ = try await c.query(
            "INSERT INTO backing_keys (key_id, backing_key_id, token, created_at, origin) VALUES (?, ?, ?, ?, ?)",
            [
                .text(backing.keyID), .text(backing.backingKeyID), .blob(ByteBuffer(bytes: backing.token)),
                .integer(Int(backing.createdAt)), .text(backing.origin.rawValue),
            ])
    }

    private static func keyBinds(_ key: KeyRecord) -> [SQLiteData] {
        [
            .text(key.id), .text(key.description), .text(key.keyUsage), .text(key.keySpec), .text(key.state.rawValue),
            .integer(Int(key.creationDate)), key.deletionDate.map { .integer(Int($0)) } ?? .null, .text(key.policy),
            .integer(key.rotationEnabled ? 1 : 0), key.rotationPeriodDays.map { .integer($0) } ?? .null,
            key.nextRotationDate.map { .integer(Int($0)) } ?? .null,
        ]
    }

    private static func key(_ row: SQLiteRow) -> KeyRecord {
        KeyRecord(
            id: row.column("id")?.string ?? "", description: row.column("description")?.string ?? "",
            keyUsage: row.column("key_usage")?.string ?? "", keySpec: row.column("key_spec")?.string ?? "",
            state: KeyRecord.State(rawValue: row.column("state")?.string ?? "") ?? .disabled,
            creationDate: Int64(row.column("creation_date")?.integer ?? 0),
            deletionDate: row.column("deletion_date")?.integer.map(Int64.init),
            policy: row.column("policy")?.string ?? "",
            rotationEnabled: row.column("rotation_enabled")?.integer == 1,
            rotationPeriodDays: row.column("rotation_period_days")?.integer,
            nextRotationDate: row.column("next_rotation_date")?.integer.map(Int64.init))
    }

    private static func backingKey(_ row: SQLiteRow) -> BackingKeyRecord {
        BackingKeyRecord(
            keyID: row.column("key_id")?.string ?? "", backingKeyID: row.column("backing_key_id")?.string ?? "",
            token: bytes(row.column("token")), createdAt: Int64(row.column("created_at")?.integer ?? 0),
            origin: BackingKeyRecord.Origin(rawValue: row.column("origin")?.string ?? "") ?? .creation)
    }

    private static func alias(_ row: SQLiteRow) -> AliasRecord {
        AliasRecord(
            name: row.column("name")?.string ?? "", keyID: row.column("key_id")?.string ?? "",
            creationDate: Int64(row.column("creation_date")?.integer ?? 0),
            lastUpdatedDate: Int64(row.column("last_updated_date")?.integer ?? 0))
    }

    private static func bytes(_ data: SQLiteData?) -> [UInt8] {
        if case .blob(let buffer)? = data { return Array(buffer.readableBytesView) }
        return []
    }
}
