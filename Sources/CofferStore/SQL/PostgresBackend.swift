import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// PostgreSQL behind the store, for several hosts on one database: postgres-nio's connection pool, each
/// call bounded by ``callTimeout`` (an unreachable database fails the call with `unavailable` instead of
/// holding it), the whole schema created in one transaction on an empty database (``schema``).
final class PostgresBackend: SQLBackend {
    /// The PostgreSQL schema version this build writes (its tables are those of SQLite schema 8).
    static let schemaVersion = 1
    /// The longest a store call may take, from asking the pool for a connection to its last row.
    static let callTimeout: Duration = .seconds(10)

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// Since when calls have found the database away (nil while it answers).
    private let outage = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    var dialect: SQLDialect { .postgres }

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`)
    /// and creates the schema in an empty database; `conflict` when the database has another schema.
    static func open(url: String, logger: Logger) async throws(StoreError) -> PostgresBackend {
        let configuration = try configuration(url)
        let backend = PostgresBackend(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        do {
            try await backend.migrate()
        } catch {
            await backend.close()
            throw SQLKeyStore.storeError(error)
        }
        return backend
    }

    /// The client configuration of a `postgres://` URL.
    static func configuration(_ url: String) throws(StoreError) -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
            let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
        else {
            throw StoreError(.database, "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = String(parts.path.drop { $0 == "/" })
        let tls: PostgresClient.Configuration.TLS
        switch parts.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let other: throw StoreError(.database, "sslmode \(other): expected disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password,
            database: database.isEmpty ? user : database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await bounded {
            try await self.client.withConnection { connection in
                try await body(Session(connection: connection, logger: self.logger))
            }
        }
    }

    func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await bounded {
            // A serializable engine (CockroachDB; PostgreSQL at SERIALIZABLE) aborts a transaction that
            // lost a conflict, and any engine may pick one as a deadlock's victim: both are run again.
            var attempt = 1
            while true {
                do {
                    return try await self.client.withTransaction(logger: self.logger) { connection in
                        try await body(Session(connection: connection, logger: self.logger))
                    }
                } catch let error as PostgresTransactionError where attempt < Self.transactionAttempts {
                    guard let failure = (error.closureError ?? error.commitError) as? PSQLError,
                        let state = failure.serverInfo?[.sqlState], Self.retriedStates.contains(state)
                    else { throw error }
                    attempt += 1
                }
            }
        }
    }

    /// How many times a transaction runs before a serialization failure or deadlock is the caller's.
    static let transactionAttempts = 5
    /// `serialization_failure` and `deadlock_detected`.
    static let retriedStates: Set<String> = ["40001", "40P01"]

    func snapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction { c in
            _ = try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", [])
            return try await body(c)
        }
    }

    /// Runs `body`, or fails with `unavailable` after ``callTimeout`` (``outageTimeout`` while the database
    /// was unreachable in the last ``outageMemory``, so that requests fail fast during an outage). The
    /// caller is answered when the time is up even if `body` does not end then: a call stuck in the driver
    /// (a connection that died mid-query) is cancelled and left to end on its own, never waited for.
    private func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = outage.withLockedValue { since in
            since.map { ContinuousClock.now - $0 < Self.outageMemory } == true ? Self.outageTimeout : Self.callTimeout
        }
        let work = Task { () async throws -> T in
            do {
                return try await body()
            } catch let error as PostgresTransactionError {
                throw Self.unwrapped(
                    error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
            } catch {
                throw Self.unwrapped(error)
            }
        }
        let answer = Answer<T>()
        let outage = self.outage
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.wait(continuation)
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    if answer.resume(
                        .failure(StoreError(.unavailable, "the database did not answer within \(timeout)")))
                    {
                        outage.withLockedValue { $0 = $0 ?? ContinuousClock.now }
                        work.cancel()
                    }
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    if case .failure(let error as StoreError) = result, error.code == .unavailable {
                        outage.withLockedValue { $0 = $0 ?? ContinuousClock.now }
                    } else {
                        outage.withLockedValue { $0 = nil }
                    }
                    answer.resume(result)
                }
            }
        } onCancel: {
            work.cancel()
        }
    }

    /// How long a call may wait while the database is known to be away.
    static let outageTimeout: Duration = .seconds(2)
    /// How long after a call found the database away the shorter timeout applies.
    static let outageMemory: Duration = .seconds(30)

    /// One answer to one waiting caller, whichever comes first: the work's result or the timeout.
    private final class Answer<T: Sendable>: Sendable {
        private let state = NIOLockedValueBox<(CheckedContinuation<T, any Error>?, Result<T, any Error>?, Bool)>(
            (nil, nil, false))

        func wait(_ continuation: CheckedContinuation<T, any Error>) {
            let early: Result<T, any Error>? = state.withLockedValue { value in
                if let result = value.1 { return result }
                value.0 = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        /// Resumes the caller with `result` if nothing did yet; whether this did.
        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            let waiting: (CheckedContinuation<T, any Error>?, Bool) = state.withLockedValue { value in
                guard !value.2 else { return (nil, false) }
                value.2 = true
                if let continuation = value.0 {
                    value.0 = nil
                    return (continuation, true)
                }
                value.1 = result
                return (nil, true)
            }
            waiting.0?.resume(with: result)
            return waiting.1
        }
    }

    /// The store's own errors and refused statements as they are; anything else (a failed connection, a
    /// cancelled lease) as `unavailable`: the transaction was rolled back, or its COMMIT never reached
    /// the server.
    private static func unwrapped(_ error: any Error) -> any Error {
        switch error {
        case is StoreError, is SQLUniqueViolation: return error
        case let error as PSQLError where error.code == .server: return error
        default: return StoreError(.unavailable, "the database cannot be reached: \(error)")
        }
    }

    private func migrate() async throws {
        try await transaction { c in
            // Hosts starting together create the schema once.
            _ = try await c.query("SELECT pg_advisory_xact_lock(?)", [.integer(Self.migrationLock)])
            _ = try await c.query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", [])
            let current = try await c.query("SELECT version FROM schema_version", []).first?.column("version")?.integer
            switch current {
            case nil:
                for statement in Self.schema { _ = try await c.query(statement, []) }
                _ = try await c.query("INSERT INTO schema_version (version) VALUES (?)", [.integer(Self.schemaVersion)])
            case Self.schemaVersion?:
                return
            case let other?:
                throw StoreError(
                    .conflict, "the database has schema \(other); this build knows schema \(Self.schemaVersion)")
            }
        }
    }

    /// The advisory lock that serializes schema creation.
    static let migrationLock = 0x636F_6666_6D69  // "coffmi"

    /// A connection as ``SQLConnection``: `?` becomes `$1`, `$2`, …; values converted both ways.
    private struct Session: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            var bindings = PostgresBindings(capacity: binds.count)
            for value in binds {
                switch value {
                case .text(let text): bindings.append(text)
                case .integer(let integer): bindings.append(Int64(integer))
                case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
                case .null: bindings.appendNull()
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
            var rows: [SQLRow] = []
            do {
                for try await row in try await connection.query(query, logger: logger) {
                    var values: [String: SQLValue] = [:]
                    for cell in row { values[cell.columnName] = try Self.value(cell) }
                    rows.append(SQLRow(values: values))
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw SQLUniqueViolation(detail: error.serverInfo?[.message] ?? "unique_violation")
            }
            return rows
        }

        /// `sql` with its `?`s numbered (the store's statements have no `?` inside a literal).
        static func numbered(_ sql: String) -> String {
            var out = ""
            var index = 0
            for character in sql {
                if character == "?" {
                    index += 1
                    out += "$\(index)"
                } else {
                    out.append(character)
                }
            }
            return out
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
            case .int8, .int4, .int2: return .integer(Int(try cell.decode(Int64.self)))
            case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            default: return .null
            }
        }
    }
}
