import SQLiteNIO
import Testing

@testable import CofferStore

/// The store's own SQLite connection (``SQLiteHandle``): every value type both ways, constraint failures
/// told apart, statements kept and reused after an error, the cache bounded, jobs on the connection's
/// thread, and nothing left hanging once it is closed.
@Suite struct SQLiteHandleTests {
    static func table() throws -> SQLiteHandle {
        let handle = try SQLiteHandle(.memory, name: "coffer-sqlite-test")
        _ = try handle.query("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, s TEXT, b BLOB, r REAL, n TEXT)", [])
        return handle
    }

    @Test func valuesRoundTripAtTheirEdges() throws {
        let handle = try Self.table()
        defer { handle.close() }
        let texts = ["", "ascii", "déjà vu ✓ 𝄞", "nul\u{0}inside"]
        let blobs: [[UInt8]] = [[], [0], [0xff, 0x00, 0x7f], [UInt8](repeating: 0xab, count: 70_000)]
        let integers = [Int.min, -1, 0, 1, Int.max]
        var expected: [Int: (Int, String, [UInt8])] = [:]
        for id in 0..<4 {
            let row = (integers[id], texts[id], blobs[id])
            expected[id] = row
            _ = try handle.query(
                "INSERT INTO t (id, i, s, b, r, n) VALUES (?, ?, ?, ?, ?, ?)",
                [.integer(id), .integer(row.0), .text(row.1), .blob(row.2), .integer(id), .null])
        }
        let rows = try handle.query("SELECT id, i, s, b, n FROM t ORDER BY id", [])
        #expect(rows.count == 4)
        for row in rows {
            guard case .integer(let id)? = row.column("id"), let want = expected[id] else {
                Issue.record("row without its id")
                continue
            }
            #expect(row.column("i") == .integer(want.0))
            #expect(row.column("s") == .text(want.1))
            #expect(row.column("b") == .blob(want.2))
            #expect(row.column("n") == .null)
            #expect(row.column("absent") == nil)
        }
        _ = try handle.query("UPDATE t SET i = ? WHERE id = 0", [.integer(Int.max)])
        #expect(try handle.query("SELECT i FROM t WHERE id = 0", []).first?.column("i") == .integer(Int.max))
    }

    @Test func aWholeRealReadsAsAnIntegerAndAFractionIsADamagedDatabase() throws {
        let handle = try Self.table()
        defer { handle.close() }
        _ = try handle.query("INSERT INTO t (id, r) VALUES (1, 42.0), (2, 0.5)", [])
        #expect(try handle.query("SELECT r FROM t WHERE id = 1", []).first?.column("r") == .integer(42))
        #expect(throws: StoreError.self) { _ = try handle.query("SELECT r FROM t WHERE id = 2", []) }
    }

    @Test func constraintFailuresAreToldApartAndTheStatementIsReusedAfterOne() throws {
        let handle = try SQLiteHandle(.memory, name: "coffer-sqlite-test")
        defer { handle.close() }
        _ = try handle.query("PRAGMA foreign_keys=ON", [])
        _ = try handle.query("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE)", [])
        _ = try handle.query("CREATE TABLE child (parent INTEGER REFERENCES parent (id))", [])
        let insert = "INSERT INTO parent (id, name) VALUES (?, ?)"
        _ = try handle.query(insert, [.integer(1), .text("a")])
        func failure(_ sql: String, _ binds: [SQLValue]) -> SQLiteHandle.Failure? {
            do {
                _ = try handle.query(sql, binds)
                return nil
            } catch {
                return error as? SQLiteHandle.Failure
            }
        }
        let primaryKey = try #require(failure(insert, [.integer(1), .text("b")]))
        #expect(
            primaryKey.isUniqueness && !primaryKey.isForeignKey && primaryKey.code == SQLiteHandle.Failure.primaryKey)
        let unique = try #require(failure(insert, [.integer(2), .text("a")]))
        #expect(unique.isUniqueness && unique.code == SQLiteHandle.Failure.unique)
        let foreign = try #require(failure("INSERT INTO child (parent) VALUES (?)", [.integer(9)]))
        #expect(foreign.isForeignKey && !foreign.isUniqueness)
        let syntax = try #require(failure("SELEKT 1", []))
        #expect(!syntax.isUniqueness && !syntax.isForeignKey)
        // The kept INSERT was reset after its failures: it runs again with good values.
        _ = try handle.query(insert, [.integer(2), .text("b")])
        #expect(try handle.query("SELECT count(*) AS n FROM parent", []).first?.column("n") == .integer(2))
    }

    @Test func keptStatementsAreBoundedAndStillRight() throws {
        let handle = try Self.table()
        defer { handle.close() }
        _ = try handle.query("INSERT INTO t (id, i) VALUES (1, 7)", [])
        let kept = "SELECT i FROM t WHERE id = ?"
        #expect(try handle.query(kept, [.integer(1)]).first?.column("i") == .integer(7))
        // Far more one-off texts than the cache holds, with the kept statement used between them: the
        // one-offs displace each other, not it: it is never prepared again.
        let preparedBefore = handle.prepareCount
        let oneOffs = SQLiteHandle.statementLimit * 2 + 5
        for number in 0..<oneOffs {
            #expect(try handle.query("SELECT \(number) AS v", []).first?.column("v") == .integer(number))
            #expect(try handle.query(kept, [.integer(1)]).first?.column("i") == .integer(7))
            #expect(handle.statementCount <= SQLiteHandle.statementLimit)
        }
        #expect(handle.keeps(kept))
        #expect(handle.prepareCount - preparedBefore == oneOffs)
        #expect(!handle.keeps("SELECT 0 AS v"))
        // Bindings do not leak from one use of a kept statement to the next.
        _ = try handle.query("INSERT INTO t (id, i) VALUES (?, ?)", [.integer(2), .integer(8)])
        _ = try handle.query("INSERT INTO t (id, i) VALUES (?, ?)", [.integer(3), .null])
        #expect(try handle.query(kept, [.integer(3)]).first?.column("i") == .null)
        #expect(try handle.query(kept, [.integer(2)]).first?.column("i") == .integer(8))
    }

    /// SQLite marks a statement whose plan may depend on a bound value (here: equalities its planner weighs)
    /// to be planned again when its bindings are cleared; kept statements are used again without that, with
    /// every parameter bound each time.
    @Test func keptStatementsAreNotPlannedAgainAndEveryParameterIsBound() throws {
        let handle = try SQLiteHandle(.memory, name: "coffer-sqlite-test")
        defer { handle.close() }
        _ = try handle.query("CREATE TABLE b (account TEXT, key_id TEXT, seq INTEGER, token BLOB)", [])
        _ = try handle.query("CREATE INDEX b_by_key ON b(account, key_id, seq)", [])
        for seq in 1...3 {
            _ = try handle.query(
                "INSERT INTO b VALUES (?, ?, ?, ?)", [.text("a"), .text("k\(seq % 2)"), .integer(seq), .blob([1])])
        }
        let statements = [
            (
                "SELECT seq FROM b WHERE account = ? AND key_id = ? ORDER BY seq DESC",
                [SQLValue.text("a"), .text("k1")]
            ),
            (
                "SELECT token FROM b WHERE account = ? AND key_id = ? AND seq = ?",
                [.text("a"), .text("k0"), .integer(2)]
            ),
        ]
        for (sql, binds) in statements {
            for _ in 0..<3 { #expect(try handle.query(sql, binds).count > 0) }
            #expect(handle.repreparations(of: sql) == 0, "\(sql)")
        }
        #expect(
            try handle.query(statements[0].0, statements[0].1).map { $0.column("seq") } == [.integer(3), .integer(1)])
        // Too few values (the rest would keep the last use's) and too many are refused before any step.
        for binds: [SQLValue] in [[.text("a")], [.text("a"), .text("k1"), .text("x")]] {
            #expect(throws: SQLiteHandle.Failure.self) { _ = try handle.query(statements[0].0, binds) }
        }
        #expect(try handle.query(statements[0].0, [.text("a"), .text("k0")]).map { $0.column("seq") } == [.integer(2)])
    }

    @Test func jobsRunOnTheConnectionsThreadAndNothingHangsOnceItIsClosed() async throws {
        let handle = try Self.table()
        let onThread = await withTaskExecutorPreference(handle.thread) { handle.thread.isCurrent }
        #expect(onThread)
        #expect(!handle.thread.isCurrent)
        handle.close()
        // A job that still prefers the stopped thread runs elsewhere and finds the connection closed.
        let refused = await withTaskExecutorPreference(handle.thread) { () -> SQLiteHandle.Failure? in
            do {
                _ = try handle.query("SELECT 1", [])
                return nil
            } catch {
                return error as? SQLiteHandle.Failure
            }
        }
        #expect(refused?.message == "the connection is closed")
    }
}
