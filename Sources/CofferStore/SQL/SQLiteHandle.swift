import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// A thread of its own for one SQLite connection, as a Swift `TaskExecutor`: a store job that prefers it
/// (`withTaskExecutorPreference`) runs all of its statements there, one after another, in one hop there and
/// one back, where sqlite-nio took three thread hand-offs per statement (its thread pool, the event loop,
/// the caller's executor). Jobs run in the order they arrive. Once stopped, jobs that still arrive run on
/// Swift's global executor (and find the connection closed).
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    // `@unchecked Sendable`: `waiting`, `stopped` and `thread` are read and written only with `condition`
    // locked.
    private let condition = NSCondition()
    private var waiting: [UnownedJob] = []
    private var stopped = false
    private var thread: Thread?

    /// The thread holds the executor until it has stopped and run its last job.
    init(name: String) {
        let thread = Thread { self.run() }
        thread.name = name
        condition.lock()
        self.thread = thread
        condition.unlock()
        thread.start()
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread.map { Thread.current == $0 } ?? false
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if stopped {
            condition.unlock()
            globalConcurrentExecutor.enqueue(job)
            return
        }
        waiting.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs already waiting have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while waiting.isEmpty && !stopped { condition.wait() }
            if waiting.isEmpty {
                thread = nil  // the thread's block holds this executor: let both go
                condition.unlock()
                return
            }
            swap(&batch, &waiting)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// One `sqlite3` connection, run on its own ``SQLiteThread``, with its prepared statements kept: the store
/// runs the same few dozen statements over and over, and sqlite-nio parsed and planned each afresh (about
/// 5 % of all CPU under load). Statements are kept by their SQL text, at most ``statementLimit``; past it the
/// one used least recently is finalized, so the texts that vary (an audit batch's INSERT has one per row
/// count, an `IN (…)` list one per length) displace each other and not the statements every call runs.
/// The connection and its statements are behind a lock, so a call that does not run on the thread (a job
/// started from an actor keeps the actor's executor) is correct, only slower.
final class SQLiteHandle: Sendable {
    /// Prepared statements kept at most.
    static let statementLimit = 128
    /// The most bytes of text and blobs a kept statement keeps bound after its use.
    static let keptBindingLimit = 4_096

    let thread: SQLiteThread
    private let state: Mutex<State>

    /// The open connection (nil once closed), its kept statements with when each was last used, and the
    /// count of uses that orders them.
    private struct State {
        var database: OpaquePointer?
        var statements: [String: (statement: OpaquePointer, lastUse: UInt64)] = [:]
        var uses: UInt64 = 0
        var prepares = 0
    }

    /// A failed SQLite call: its extended result code and SQLite's message.
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let message: String
        var description: String { "SQLite error \(code): \(message)" }
        /// A UNIQUE or PRIMARY KEY constraint (or one SQLite does not name).
        var isUniqueness: Bool { [SQLITE_CONSTRAINT, Self.unique, Self.primaryKey].contains(code) }
        var isForeignKey: Bool { code == Self.foreignKey }
        /// A lock held by another connection (SQLITE_BUSY or one of its extended codes).
        var isBusy: Bool { code & 0xff == SQLITE_BUSY }

        // The extended codes sqlite3.h defines as (SQLITE_CONSTRAINT | (n << 8)), which Swift does not import.
        static let foreignKey = SQLITE_CONSTRAINT | (3 << 8)
        static let primaryKey = SQLITE_CONSTRAINT | (6 << 8)
        static let unique = SQLITE_CONSTRAINT | (8 << 8)
    }

    /// SQLite's own setup, once per process before the first open (sqlite-nio does the same, for the
    /// connections it opens).
    private static let initialized: Void = { _ = sqlite_nio_sqlite3_initialize() }()

    /// Opens `storage` (created if missing), with a thread named `name` to run its jobs on.
    init(_ storage: SQLiteConnection.Storage, name: String) throws {
        Self.initialized
        let path: String
        switch storage {
        case .memory: path = ":memory:"
        case .file(let file): path = file
        }
        // What sqlite-nio opens with: a serialized connection, URIs, extended result codes.
        let flags =
            SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI
            | SQLITE_OPEN_EXRESCODE
        var opened: OpaquePointer?
        let status = sqlite_nio_sqlite3_open_v2(path, &opened, flags, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            sqlite_nio_sqlite3_close(opened)
            throw Failure(code: status, message: "\(message) (\(path))")
        }
        // Another process (`coffer principals`, `coffer audit`) may hold the write lock for a moment.
        sqlite_nio_sqlite3_busy_timeout(opened, Int32(SQLiteBackend.busyTimeoutMilliseconds))
        state = Mutex(State(database: opened))
        thread = SQLiteThread(name: name)
    }

    deinit { close() }

    /// How many prepared statements are kept (for tests).
    var statementCount: Int { state.withLock { $0.statements.count } }

    /// How many statements have been prepared so far (for tests).
    var prepareCount: Int { state.withLock { $0.prepares } }

    /// Whether `sql` is kept prepared (for tests).
    func keeps(_ sql: String) -> Bool { state.withLock { $0.statements[sql] != nil } }

    /// How many times SQLite has prepared the kept statement `sql` again by itself since it was kept (for
    /// tests; nil when it is not kept).
    func repreparations(of sql: String) -> Int? {
        state.withLock { state in
            state.statements[sql].map {
                Int(sqlite_nio_sqlite3_stmt_status($0.statement, Int32(SQLITE_STMTSTATUS_REPREPARE), 0))
            }
        }
    }

    /// Finalizes every statement, closes the connection and ends its thread.
    func close() {
        state.withLock { state in
            for kept in state.statements.values { sqlite_nio_sqlite3_finalize(kept.statement) }
            state.statements.removeAll()
            if let database = state.database { sqlite_nio_sqlite3_close_v2(database) }
            state.database = nil
        }
        thread.stop()
    }

    /// How long a statement waits for a lock another connection holds before it fails with `SQLITE_BUSY`.
    func setBusyTimeout(milliseconds: Int) {
        state.withLock { state in
            if let database = state.database { sqlite_nio_sqlite3_busy_timeout(database, Int32(milliseconds)) }
        }
    }

    /// Runs `sql` with `binds` for its `?`s and returns every row it yields.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try state.withLock { state throws -> [SQLRow] in
            guard let database = state.database else {
                throw Failure(code: SQLITE_MISUSE, message: "the connection is closed")
            }
            let statement = try Self.prepared(sql, database, &state)
            // Every parameter is bound on every use, so none keeps its value from the use before, and the
            // bindings are not cleared after one: `sqlite3_clear_bindings` marks a statement whose plan may
            // depend on a bound value (SQLite marks `col = ?` terms its planner weighs) expired, and SQLite
            // then parses and plans it afresh at its next step, which was more than half of a read of a key's
            // backing keys. (A value SQLite plans with, a `LIMIT ?` or an integer turning into or from 0 or
            // 1, still has it planned again when it changes.) Only bindings larger than
            // ``keptBindingLimit`` are cleared, so that a kept statement does not hold a whole audit batch
            // until its next use: those are INSERTs of values, whose plan depends on none of them.
            let boundBytes = binds.reduce(0) { total, value in
                switch value {
                case .text(let text): total + text.utf8.count
                case .blob(let bytes): total + bytes.count
                case .integer, .null: total
                }
            }
            defer {
                sqlite_nio_sqlite3_reset(statement)
                if boundBytes > Self.keptBindingLimit { sqlite_nio_sqlite3_clear_bindings(statement) }
            }
            let parameters = Int(sqlite_nio_sqlite3_bind_parameter_count(statement))
            guard binds.count == parameters else {
                throw Failure(code: SQLITE_RANGE, message: "\(binds.count) values for \(parameters) parameters")
            }
            for (offset, value) in binds.enumerated() {
                let status = Self.bind(value, at: Int32(offset + 1), statement)
                guard status == SQLITE_OK else { throw Self.failure(status, database) }
            }
            var columns: [String] = []
            var rows: [SQLRow] = []
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { return rows }
                guard status == SQLITE_ROW else { throw Self.failure(status, database) }
                if rows.isEmpty {
                    // After the first step: a statement SQLite prepared again (the schema changed) may name
                    // its columns differently.
                    columns = (0..<sqlite_nio_sqlite3_column_count(statement)).map { column in
                        sqlite_nio_sqlite3_column_name(statement, column).map { String(cString: $0) } ?? ""
                    }
                }
                var values: [SQLValue] = []
                values.reserveCapacity(columns.count)
                for index in columns.indices { values.append(try Self.value(statement, Int32(index))) }
                rows.append(SQLRow(names: columns, values: values))
            }
        }
    }

    private static func prepared(_ sql: String, _ database: OpaquePointer, _ state: inout State) throws -> OpaquePointer
    {
        state.uses += 1
        if let kept = state.statements[sql] {
            state.statements[sql] = (kept.statement, state.uses)
            return kept.statement
        }
        if state.statements.count >= statementLimit,
            let oldest = state.statements.min(by: { $0.value.lastUse < $1.value.lastUse })
        {
            sqlite_nio_sqlite3_finalize(oldest.value.statement)
            state.statements[oldest.key] = nil
        }
        state.prepares += 1
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(
            database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status, database) }
        state.statements[sql] = (statement, state.uses)
        return statement
    }

    private static func bind(_ value: SQLValue, at index: Int32, _ statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let integer):
            return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
        case .text(let text):
            // The string's own UTF-8, in place: passing the String itself would copy it into a C string first.
            var text = text
            return text.withUTF8 { utf8 in
                // An empty buffer may have no address, and SQLite binds NULL for a null pointer.
                guard let base = utf8.baseAddress, !utf8.isEmpty else {
                    return sqlite_nio_sqlite3_bind_text64(statement, index, "", 0, transient, UInt8(SQLITE_UTF8))
                }
                return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                    sqlite_nio_sqlite3_bind_text64(
                        statement, index, $0, UInt64(utf8.count), transient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let bytes):
            // An empty array's buffer need not have an address, and SQLite binds NULL for a null pointer.
            guard !bytes.isEmpty else { return sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0) }
            return bytes.withUnsafeBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient)
            }
        case .null:
            return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    /// A column of the types the schema has; a REAL that is not a whole number is a damaged database.
    private static func value(_ statement: OpaquePointer, _ column: Int32) throws -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT:
            guard let integer = Int(exactly: sqlite_nio_sqlite3_column_double(statement, column)) else {
                throw StoreError(.database, "a REAL where the schema has an INTEGER")
            }
            return .integer(integer)
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    /// The call's own status (an extended code: the connection is opened with SQLITE_OPEN_EXRESCODE) and
    /// SQLite's message.
    private static func failure(_ status: Int32, _ database: OpaquePointer) -> Failure {
        Failure(
            code: status,
            message: sqlite_nio_sqlite3_errmsg(database).map { String(cString: $0) } ?? "status \(status)")
    }

    /// SQLite copies the bound bytes before the call returns. `nonisolated(unsafe)`: an immutable C function
    /// pointer constant (SQLITE_TRANSIENT, -1), which Swift cannot prove Sendable.
    nonisolated(unsafe) private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
