import Foundation
import SQLiteNIO
import Testing

@testable import CofferStore

/// The SQLite file's WAL is checkpointed by a connection of its own, not inside a request's COMMIT, and
/// the audit records of calls that change nothing are committed without a sync of their own
/// (``CommitDurability/deferredSync``): what is committed reaches the database file itself within the
/// checkpointer's interval, and at close.
@Suite struct SQLiteCheckpointTests {
    /// A fresh SQLite store file and its path.
    static func fresh() async throws -> (SQLKeyStore, String) {
        let path = temporaryPath()
        return (try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r")), path)
    }

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("coffer-checkpoint-\(UUID().uuidString).sqlite")
            .path
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The audit records a copy of the database file alone holds (without its WAL: what a checkpoint
    /// has copied into it); 0 while the copy does not even hold the schema yet.
    static func recordsInFileAlone(_ path: String) async throws -> Int {
        let copy = path + "-copy-\(UUID().uuidString).sqlite"
        defer { remove(copy) }
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        guard let store = try? await SQLKeyStore.openExisting(path: copy) else { return 0 }
        let rows = try? await store.auditRecords(after: 0, limit: 1_000)
        await store.close()
        return rows?.count ?? 0
    }

    /// The sync level a transaction of `durability` commits at (1 NORMAL, 2 FULL), read inside it; when
    /// `failing`, the transaction then throws and is rolled back.
    static func level(
        _ store: SQLKeyStore, _ durability: CommitDurability, failing: Bool = false
    ) async throws -> Int? {
        struct Rollback: Error { let level: Int? }
        do {
            return try await store.backend.transaction(durability: durability) { c in
                let level = try await c.query("PRAGMA synchronous", []).first?.column("synchronous")?.integer
                if failing { throw Rollback(level: level) }
                return level
            }
        } catch let rollback as Rollback {
            return rollback.level
        }
    }

    @Test func theConnectionSyncsEveryCommitAgainAfterADeferredOne() async throws {
        let (store, path) = try await Self.fresh()
        defer { Self.remove(path) }
        #expect(try await store.appendAudit(AuditLogTests.entry(1)) == 1)
        #expect(try await Self.level(store, .deferredSync) == 1)  // NORMAL: the checkpointer syncs
        #expect(try await Self.level(store, .synced) == 2)  // FULL again, after a deferred commit
        #expect(try await Self.level(store, .deferredSync, failing: true) == 1)
        #expect(try await Self.level(store, .synced) == 2)  // and after a deferred one that rolled back
        let autocheckpoint = try await store.backend.read { c in
            try await c.query("PRAGMA wal_autocheckpoint", []).first?.column("wal_autocheckpoint")?.integer
        }
        #expect(autocheckpoint == 0)  // the checkpointer's connection does it
        await store.close()
    }

    @Test func committedRecordsReachTheDatabaseFileWhileTheStoreIsOpen() async throws {
        let (store, path) = try await Self.fresh()
        defer { Self.remove(path) }
        for n in 1...20 { _ = try await store.appendAudit(AuditLogTests.entry(n)) }
        // The checkpointer runs every second; give it ten.
        let deadline = ContinuousClock.now + .seconds(10)
        var copied = try await Self.recordsInFileAlone(path)
        while copied < 20, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            copied = try await Self.recordsInFileAlone(path)
        }
        #expect(copied == 20)
        await store.close()
    }

    @Test func closingCheckpointsWhatWasCommitted() async throws {
        let (store, path) = try await Self.fresh()
        defer { Self.remove(path) }
        // Another connection stays open (as `coffer audit` may), so SQLite's own checkpoint at the last
        // close does not happen: only the store's close checkpoints.
        let other = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await other.query("SELECT count(*) FROM sqlite_master")  // it now holds the WAL open too
        for n in 1...5 { _ = try await store.appendAudit(AuditLogTests.entry(n)) }
        await store.close()
        #expect(try await Self.recordsInFileAlone(path) == 5)
        try await other.close()
    }

    /// A round checkpoints passively, and restarts the WAL only past its bound of frames.
    @Test func aRoundRestartsTheWALOnlyPastItsBound() async throws {
        let path = Self.temporaryPath()
        defer { Self.remove(path) }
        let writer = try await SQLiteConnection.open(storage: .file(path: path))
        let checkpointer = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await writer.query("PRAGMA journal_mode=WAL")
        _ = try await writer.query("PRAGMA wal_autocheckpoint=0")
        _ = try await writer.query("CREATE TABLE t (n INTEGER)")
        for n in 1...20 { _ = try await writer.query("INSERT INTO t VALUES (?)", [.integer(n)]) }
        let quiet = try await SQLiteBackend.Checkpointer.round(checkpointer, restartFrames: 1_000)
        #expect(!quiet.restarted && quiet.frames >= 20 && quiet.copied == quiet.frames)
        for n in 21...40 { _ = try await writer.query("INSERT INTO t VALUES (?)", [.integer(n)]) }
        let long = try await SQLiteBackend.Checkpointer.round(checkpointer, restartFrames: 10)
        #expect(long.restarted && long.copied == long.frames)
        // The next write starts the WAL from its beginning.
        _ = try await writer.query("INSERT INTO t VALUES (41)")
        let after = try await SQLiteBackend.Checkpointer.round(checkpointer, restartFrames: 1_000)
        #expect(after.frames < 5)
        let count = try await writer.query("SELECT count(*) AS n FROM t").first?.column("n")?.integer
        #expect(count == 41)
        try await writer.close()
        try await checkpointer.close()
    }
}
