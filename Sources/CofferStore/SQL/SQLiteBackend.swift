import Logging
import NIOCore
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file (WAL journal, `synchronous=FULL` except for audit batches:
/// ``CommitDurability/deferredSync``), one connection whose statements run one job at a time (a
/// transaction's statements are never interleaved with another's), schema migrations by version
/// (``migrations``). SQLite itself comes with sqlite-nio: nothing to install.
///
/// A job runs on the connection's own thread (``SQLiteHandle``), all its statements in one hop there, with
/// the statements kept prepared; single reads and audit appends that find the connection free run in
/// their caller's task instead (``job(inlineWhenFree:_:)``).
///
/// The WAL is checkpointed by a second connection of its own (``Checkpointer``), not by the commit that
/// fills it: SQLite's automatic checkpoint copies the WAL into the database and syncs it inside some
/// request's COMMIT, on the one connection every request waits for, which stalled all requests for tens
/// of milliseconds every few thousand writes.
final class SQLiteBackend: SQLBackend {
    /// The schema version this build writes.
    static let schemaVersion = 8
    /// How long a statement waits for another process's write lock before failing, in milliseconds.
    static let busyTimeoutMilliseconds = 5_000

    /// The connection (internal for tests, which set its busy timeout).
    let handle: SQLiteHandle
    private let jobs = SerialJobs()
    /// The connection's `PRAGMA synchronous` as the last write transaction set it (nil: unknown). Read and
    /// changed only inside a job.
    private let synchronousLevel = Mutex<String?>(nil)
    private let checkpointer: Checkpointer?
    var dialect: SQLDialect { .sqlite }

    private init(handle: SQLiteHandle, checkpointer: Checkpointer?) {
        self.handle = handle
        self.checkpointer = checkpointer
    }

    /// Opens `storage` and migrates it to ``schemaVersion`` (keys of a schema 1 database move into
    /// `legacyScope`); without a legacy scope, only checks that the database has that schema.
    static func open(
        storage: SQLiteConnection.Storage, name: String, legacyScope: KeyScope?, logger: Logger
    ) async throws(StoreError) -> SQLiteBackend {
        let handle: SQLiteHandle
        do {
            handle = try SQLiteHandle(storage, name: "coffer-sqlite")
        } catch {
            throw StoreError(.database, "cannot open \(name): \(error)")
        }
        var checkpointer: Checkpointer?
        if case .file = storage {
            do {
                checkpointer = Checkpointer(
                    connection: try await SQLiteConnection.open(storage: storage, logger: logger), logger: logger)
            } catch {
                handle.close()
                throw StoreError(.database, "cannot open \(name) a second time for checkpoints: \(error)")
            }
        }
        let backend = SQLiteBackend(handle: handle, checkpointer: checkpointer)
        do {
            try await backend.migrate(legacyScope: legacyScope, checkpoints: checkpointer != nil)
        } catch let error as StoreError {
            await backend.close()
            throw error
        } catch {
            await backend.close()
            throw StoreError(.database, "cannot migrate \(name): \(error)")
        }
        await checkpointer?.start()
        return backend
    }

    func close() async {
        await checkpointer?.stop()
        _ = try? await jobs.run { self.handle.close() }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await job(inlineWhenFree: true, body)
    }

    /// Runs `body` as one job. A ``read(_:)`` (statements outside a transaction: the reads of requests,
    /// whose WAL readers take no lock and do no synchronous I/O, and the pragmas at open) and a write whose
    /// commit does not sync (audit appends, ``CommitDurability/deferredSync``) run in their caller's task
    /// when no other job holds the connection or waits for it, which saves two thread hand-offs each, and
    /// otherwise queue for the connection's thread. Write transactions whose commit syncs, and snapshots (a
    /// whole-log verification can read for a long time), always run on that thread.
    ///
    /// An inline write never waits for the write lock in its caller's task (which may be an event loop's,
    /// `EventLoopTaskExecutor` in CofferServer, where waiting would hold every connection of the loop):
    /// when another process holds it (`coffer principals`, `coffer audit`) or a RESTART checkpoint is
    /// pending, its `BEGIN IMMEDIATE` fails at once and the job queues for the connection's thread, which
    /// waits up to ``busyTimeoutMilliseconds``. What an inline write can still spend in its caller's task is
    /// SQLite's sync of the WAL header on the first write after a checkpoint has copied the whole WAL.
    private func job<T: Sendable>(
        inlineWhenFree: Bool, writes: Bool = false, _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        let session = Session(handle: handle)
        if inlineWhenFree {
            do {
                let attempt = try await jobs.runIfFree { () async throws -> T in
                    guard writes else { return try await body(session) }
                    self.handle.setBusyTimeout(milliseconds: 0)
                    defer { self.handle.setBusyTimeout(milliseconds: Self.busyTimeoutMilliseconds) }
                    return try await body(session)
                }
                if case .ran(let result) = attempt { return result }
            } catch let failure as SQLiteHandle.Failure where writes && failure.isBusy {
                // Nothing was written (a write's transaction rolls back): wait for the lock on the thread.
            }
        }
        return try await withTaskExecutorPreference(handle.thread) {
            try await jobs.run { try await body(session) }
        }
    }

    func transaction<T: Sendable>(
        durability: CommitDurability, _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        // Every write runs at its own sync level (the PRAGMA, with no I/O, runs whenever the level differs
        // from the one the last write set), so none inherits another's. A deferred commit writes the WAL
        // without syncing it; the checkpointer syncs it (without a checkpointer, in memory, there is
        // nothing to sync).
        let synchronous = durability == .deferredSync && checkpointer != nil ? "NORMAL" : "FULL"
        return try await inTransaction(
            "BEGIN IMMEDIATE", synchronous: synchronous, inlineWhenFree: durability == .deferredSync, body)
    }

    func snapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        // A deferred transaction reads one snapshot and takes no write lock.
        try await inTransaction("BEGIN", body)
    }

    /// Runs `body` between `begin` and COMMIT, with the connection's `PRAGMA synchronous` at `synchronous`
    /// when given (a pragma that must run outside the transaction; skipped when the connection is known to
    /// be at that level already, which saves a statement, and a trip to SQLite's thread, on most writes).
    private func inTransaction<T: Sendable>(
        _ begin: String, synchronous: String? = nil, inlineWhenFree: Bool = false,
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await job(inlineWhenFree: inlineWhenFree, writes: true) { c in
            if let synchronous, self.synchronousLevel.withLock({ $0 }) != synchronous {
                self.synchronousLevel.withLock { $0 = nil }  // unknown until the pragma has run
                _ = try await c.query("PRAGMA synchronous=\(synchronous)", [])
                self.synchronousLevel.withLock { $0 = synchronous }
            }
            _ = try await c.query(begin, [])
            do {
                let result = try await body(c)
                _ = try await c.query("COMMIT", [])
                return result
            } catch {
                _ = try? await c.query("ROLLBACK", [])
                throw error
            }
        }
    }

    private func migrate(legacyScope: KeyScope?, checkpoints: Bool) async throws {
        // Pragmas cannot run inside a transaction.
        try await read { c in
            _ = try await c.query("PRAGMA journal_mode=WAL", [])
            if checkpoints {
                // The Checkpointer's connection does it, off the path of requests.
                _ = try await c.query("PRAGMA wal_autocheckpoint=0", [])
            }
            _ = try await c.query("PRAGMA synchronous=FULL", [])
            _ = try await c.query("PRAGMA foreign_keys=ON", [])
            // Another process (`coffer principals`, `coffer audit`) may hold the write lock for a moment.
            _ = try await c.query("PRAGMA busy_timeout=\(Self.busyTimeoutMilliseconds)", [])
        }
        try await transaction { c in
            _ = try await c.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", [])
            let rows = try await c.query("SELECT version FROM schema_version", [])
            let current = rows.first?.column("version")?.integer ?? 0
            guard current <= Self.schemaVersion else {
                throw StoreError(
                    .database, "the database has schema \(current); this build knows up to \(Self.schemaVersion)")
            }
            guard let legacyScope else {
                guard current == Self.schemaVersion else {
                    throw StoreError(
                        .conflict,
                        "the database has schema \(current), not \(Self.schemaVersion): start its host (or coffer dev) once to migrate it"
                    )
                }
                return
            }
            let scope: [SQLValue] = [.text(legacyScope.account), .text(legacyScope.region)]
            for version in current..<Self.schemaVersion {
                for statement in Self.migrations[version] {
                    _ = try await c.query(statement, statement.contains("?1") ? scope : [])
                }
            }
            _ = try await c.query("DELETE FROM schema_version", [])
            _ = try await c.query("INSERT INTO schema_version (version) VALUES (?)", [.integer(Self.schemaVersion)])
        }
    }

    /// The connection as ``SQLConnection``: values converted both ways, constraint failures named.
    private struct Session: SQLConnection {
        let handle: SQLiteHandle
        var dialect: SQLDialect { .sqlite }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            do {
                return try handle.query(sql, binds)
            } catch let error as SQLiteHandle.Failure where error.isUniqueness {
                throw SQLConstraintViolation(.unique, "\(error)")
            } catch let error as SQLiteHandle.Failure where error.isForeignKey {
                throw SQLConstraintViolation(.foreignKey, "\(error)")
            }
        }
    }
}
