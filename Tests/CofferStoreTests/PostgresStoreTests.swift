import Foundation
import Testing

@testable import CofferStore

/// What only PostgreSQL has: a server that can be away, a schema created once by whichever host comes
/// first, and URLs.
@Suite(.enabled(if: StoreKind.available.contains(.postgres))) struct PostgresStoreTests {
    @Test func anUnreachableServerIsUnavailableNotAnError() async throws {
        // A port nothing listens on: the store reports `unavailable` (DependencyTimeoutException to callers).
        let listener = try await StoreKind.freePort()
        #expect(
            await storeErrorCode {
                _ = try await SQLKeyStore.openPostgres(url: "postgres://coffer@127.0.0.1:\(listener)/x")
            }
                == .unavailable)
    }

    @Test func hostsStartingTogetherCreateTheSchemaOnce() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let stores = try await withThrowingTaskGroup(of: SQLKeyStore.self) { group in
            for _ in 0..<4 { group.addTask { try await database.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let versions = try await stores[0].backend.read { c in
            try await c.query("SELECT version FROM schema_version", [])
        }
        #expect(versions.map { $0.column("version")?.integer } == [PostgresBackend.schemaVersion])
        for store in stores { await store.close() }
    }

    @Test func aSessionIdleInATransactionIsEndedByTheServer() async throws {
        // A host frozen mid-transaction must not hold its locks, and stall every other host, for as long as
        // it stays frozen (tests/e2e/test_faults.py): each connection asks the server to end such a session.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        let setting = try await store.backend.read { c in
            try await c.query("SELECT current_setting('idle_in_transaction_session_timeout') AS timeout", [])
        }
        #expect(setting.first?.column("timeout")?.string == "5s")
        await store.close()
    }

    typealias Locked = SerialJobsTests.Locked

    /// Counts one more attempt; which it is (1, 2, …).
    static func count(_ attempts: Locked<Int>) -> Int {
        attempts.withLock { count in
            count += 1
            return count
        }
    }

    /// Ends the server session of `c` from another connection, as a server restart or an administrator
    /// would, and waits until the server has let it go.
    static func endSession(of c: any SQLConnection, from other: SQLKeyStore) async throws {
        let pid = try #require(try await c.query("SELECT pg_backend_pid() AS pid", []).first?.column("pid")?.integer)
        let ended = try await other.backend.read { o in
            try await o.query("SELECT pg_terminate_backend(CAST(? AS integer), 5000) AS ended", [.integer(pid)])
        }
        #expect(ended.first?.column("ended")?.integer == 1)
    }

    @Test func aReadWhoseConnectionBrokeRunsAgainOnAnother() async throws {
        // A connection the pool holds may have been ended by the server (a restart, a host frozen past the
        // idle-in-transaction timeout): the read it carried changed nothing and runs again.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        let other = try await database.open()
        let attempts = Locked(0)
        let answer = try await store.backend.read { c in
            if Self.count(attempts) == 1 { try await Self.endSession(of: c, from: other) }
            return try await c.query("SELECT 7 AS answer", []).first?.column("answer")?.integer
        }
        #expect(answer == 7)
        #expect(attempts.withLock { $0 } == 2)
        // Twice in one call is the database's trouble, not one stale connection: the caller hears of it.
        let twice = Locked(0)
        #expect(
            await storeErrorCode {
                _ = try await store.backend.read { c in
                    twice.withLock { $0 += 1 }
                    try await Self.endSession(of: c, from: other)
                    return try await c.query("SELECT 7 AS answer", [])
                }
            } == .unavailable)
        #expect(twice.withLock { $0 } == 2)
        await store.close()
        await other.close()
    }

    @Test func aTransactionWhoseConnectionBrokeBeforeCommitRunsAgainOnceAndCommitsOnce() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        let other = try await database.open()
        try await database.execute(["CREATE TABLE probe (n BIGINT NOT NULL)"], on: store)
        let attempts = Locked(0)
        try await store.backend.transaction { c in
            _ = try await c.query("INSERT INTO probe (n) VALUES (1)", [])
            if Self.count(attempts) == 1 { try await Self.endSession(of: c, from: other) }
            _ = try await c.query("INSERT INTO probe (n) VALUES (2)", [])
        }
        #expect(attempts.withLock { $0 } == 2)
        let rows = try await store.backend.read { c in try await c.query("SELECT n FROM probe ORDER BY n", []) }
        #expect(rows.map { $0.column("n")?.integer } == [1, 2])
        await store.close()
        await other.close()
    }

    @Test func aSessionEndedForIdlingInATransactionRunsAgainOnAnother() async throws {
        // What a host frozen mid-transaction finds when it resumes (tests/e2e/test_faults.py): the server
        // ended its session for idling in the transaction (25P03), and rolled the transaction back.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        try await database.execute(["CREATE TABLE probe (n BIGINT NOT NULL)"], on: store)
        let attempts = Locked(0)
        try await store.backend.transaction { c in
            _ = try await c.query("INSERT INTO probe (n) VALUES (1)", [])
            if Self.count(attempts) == 1 {
                _ = try await c.query("SET LOCAL idle_in_transaction_session_timeout = 50", [])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        #expect(attempts.withLock { $0 } == 2)
        let rows = try await store.backend.read { c in try await c.query("SELECT n FROM probe", []) }
        #expect(rows.map { $0.column("n")?.integer } == [1])
        await store.close()
    }

    /// A table whose rows run `function` at COMMIT (a deferred constraint trigger), with a sequence
    /// (which no rollback resets) counting the COMMITs it has seen.
    static func probeFailingAtCommit(_ function: String, _ database: TestDatabase, _ store: SQLKeyStore) async throws {
        try await database.execute(
            [
                "CREATE TABLE probe (n BIGINT NOT NULL)", "CREATE SEQUENCE commits",
                """
                CREATE FUNCTION at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN \(function) RETURN NULL; END $$
                """,
                """
                CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON probe DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION at_commit()
                """,
            ], on: store)
    }

    @Test func aCommitRefusedAsASerializationFailureRunsAgainAndCommitsOnce() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        try await Self.probeFailingAtCommit(
            "IF nextval('commits') = 1 THEN RAISE EXCEPTION 'first commit' USING ERRCODE = 'serialization_failure'; END IF;",
            database, store)
        let attempts = Locked(0)
        try await store.backend.transaction { c in
            _ = Self.count(attempts)
            _ = try await c.query("INSERT INTO probe (n) VALUES (1)", [])
        }
        #expect(attempts.withLock { $0 } == 2)
        let rows = try await store.backend.read { c in try await c.query("SELECT n FROM probe", []) }
        #expect(rows.map { $0.column("n")?.integer } == [1])
        await store.close()
    }

    @Test func aSessionEndedWhileCommittingLeavesTheOutcomeUnknownAndIsNotRunAgain() async throws {
        // The server ends the session (FATAL 57P01) while it runs the COMMIT: whether the transaction
        // committed is not for the host to guess, and running it again could apply it twice.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        try await Self.probeFailingAtCommit("PERFORM pg_terminate_backend(pg_backend_pid());", database, store)
        let attempts = Locked(0)
        #expect(
            await storeErrorCode {
                try await store.backend.transaction { c in
                    _ = Self.count(attempts)
                    _ = try await c.query("INSERT INTO probe (n) VALUES (1)", [])
                }
            } == .outcomeUnknown)
        #expect(attempts.withLock { $0 } == 1)
        await store.close()
    }

    @Test func aRefusedStatementSaysWhyWithoutTheDriversGenericText() async throws {
        // What the host logs of a store failure: the server's SQLSTATE and message, never the bound values.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        do {
            _ = try await store.backend.read { c in
                try await c.query("SELECT * FROM no_such_table WHERE x = ?", [.text("bound-value-7f3a")])
            }
            Issue.record("a statement on a missing table succeeded")
        } catch let error as StoreError {
            #expect(error.code == .database)
            #expect(error.description.contains("42P01"))
            #expect(error.description.contains("no_such_table"))
            #expect(!error.description.contains("bound-value-7f3a"))
            #expect(!error.description.contains("Generic description"))
        }
        await store.close()
    }

    @Test func aDatabaseOfAnotherSchemaIsRefused() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        try await database.execute(["UPDATE schema_version SET version = 99"], on: store)
        await store.close()
        #expect(await storeErrorCode { _ = try await database.open() } == .conflict)
    }

    @Test(arguments: [
        "mysql://coffer@127.0.0.1/db", "postgres://127.0.0.1/db", "postgres://coffer@/db",
        "postgres://coffer@127.0.0.1/db?sslmode=sometimes",
    ])
    func aBadURLIsRefusedClearly(_ url: String) async throws {
        #expect(await storeErrorCode { _ = try await SQLKeyStore.openPostgres(url: url) } == .database)
    }
}

extension StoreKind {
    /// A loopback port with nothing listening on it (bound, then released).
    static func freePort() async throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw StoreTestError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
