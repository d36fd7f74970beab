import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// PostgreSQL behind the store, for several hosts on one database: postgres-nio's connection pool at
/// READ COMMITTED, each call bounded in time (``PostgresCall``: an unreachable database fails the call
/// with `unavailable` instead of holding it), and the whole schema created in one transaction on an
/// empty database (``schema``). Transactions that change the same key serialize on its rows
/// (``SQLKeyStore/lockKeySet(account:id:_:)``), and audit appends on an advisory lock.
final class PostgresBackend: SQLBackend {
    /// The PostgreSQL schema version this build writes (its tables are those of SQLite schema 8).
    static let schemaVersion = 1
    /// The longest a connection attempt may take.
    static let connectTimeout: Duration = .seconds(5)
    /// How many times a transaction runs before a serialization failure or deadlock is the caller's.
    static let transactionAttempts = 5
    /// `serialization_failure` and `deadlock_detected`: the engine aborted the transaction, which may be
    /// run again.
    static let retriedStates: Set<String> = ["40001", "40P01"]
    /// The advisory lock that serializes schema creation.
    static let migrationLock = 0x636F_6666_6D69  // "coffmi"
    /// How long the server lets a session sit idle inside a transaction before it ends the session and
    /// releases its locks (`idle_in_transaction_session_timeout`). Coffer's transactions run SQL only, never
    /// an HSM call or other wait, so only a host that stopped or froze mid-transaction reaches it; without
    /// it, such a host would hold its row and audit locks, and stall every other host's writes, for as long
    /// as it stays frozen (found by tests/e2e/test_faults.py).
    static let idleInTransactionTimeout: Duration = .seconds(5)

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    private let calls = PostgresCall.Limits()
    var dialect: SQLDialect { .postgres }

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        // postgres-nio's pool runs as long as the client is open (closed by ``close()``).
        runner = Task { await client.run() }
    }

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`).
    /// With `creatingSchema` (a host), an empty database gets the schema; without (the tools beside a
    /// host), an empty database is refused. `conflict` when the database has another schema.
    static func open(url: String, creatingSchema: Bool, logger: Logger) async throws(StoreError) -> PostgresBackend {
        let configuration = try configuration(url)
        let backend = PostgresBackend(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        do {
            try await backend.migrate(creatingSchema: creatingSchema)
        } catch {
            await backend.close()
            throw SQLKeyStore.storeError(error)
        }
        return backend
    }

    /// The client configuration of a `postgres://` URL. TLS is required (and the server's certificate
    /// checked) unless the URL says otherwise or names a loopback host, so that nobody between a host
    /// and its database can strip it.
    static func configuration(_ url: String) throws(StoreError) -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
            let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
        else {
            throw StoreError(.database, "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = String(parts.path.drop { $0 == "/" })
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        let tls: PostgresClient.Configuration.TLS
        switch parts.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? (loopback ? "prefer" : "require") {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let other: throw StoreError(.database, "sslmode \(other): expected disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user,
            password: parts.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"],
            database: database.isEmpty ? user : database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "\(idleInTransactionTimeout.components.seconds * 1000)")
        ]
        return configuration
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await PostgresCall.run(limits: calls, timeout: calls.timeout()) { _ in
            var reconnected = false
            while true {
                do {
                    return try await self.withConnection { connection in
                        try await body(Session(connection: connection, logger: self.logger))
                    }
                } catch let error where PostgresCall.reconnects(after: error, reconnected: reconnected) {
                    // A pooled connection the server ended while it sat idle (a restart, the idle-in-
                    // transaction timeout after a freeze): a read changes nothing, so it runs again on another.
                    reconnected = true
                }
            }
        }
    }

    /// Runs `body` on a leased connection. One found broken is closed before it goes back to the pool:
    /// postgres-nio fails a statement before it closes the channel, and a pool not yet told would lease the
    /// same dead connection to the call's second attempt.
    private func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            do {
                return try await body(connection)
            } catch {
                if PostgresCall.isBrokenConnection(error) { try? await connection.close() }
                throw error
            }
        }
    }

    /// Every commit waits for the server's flush, whatever `durability` asks: a crash of the PostgreSQL
    /// server — a separate process that fleets restart on their own — must not lose what a host has
    /// answered (tests/e2e/test_fleet.py kills it mid-load and finds every served call's record).
    func transaction<T: Sendable>(
        durability: CommitDurability, _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await inTransaction(isolation: nil, timeout: calls.timeout(), body)
    }

    func snapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        // A whole-log read (`coffer audit verify`) may take long: it changes nothing, so it may wait.
        try await inTransaction(
            isolation: "ISOLATION LEVEL REPEATABLE READ READ ONLY", timeout: PostgresCall.Limits.snapshotTimeout, body)
    }

    /// Runs `body` between BEGIN and COMMIT on one connection, again when the engine aborts it as a
    /// serialization failure or deadlock, and once more on another connection when its connection broke
    /// before COMMIT was sent. COMMIT is sent only while the caller still waits (``PostgresCall/Gate``): a
    /// call answered `unavailable` is rolled back, never committed late. A connection that breaks while
    /// COMMIT is on the wire leaves the outcome unknown (`outcomeUnknown`), never `unavailable`.
    private func inTransaction<T: Sendable>(
        isolation: String?, timeout: Duration, _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await PostgresCall.run(limits: calls, timeout: timeout) { gate in
            var attempt = 1
            var reconnected = false
            while true {
                var commitSent = false
                do {
                    return try await self.withConnection { connection in
                        let session = Session(connection: connection, logger: self.logger)
                        _ = try await session.query("BEGIN" + (isolation.map { " " + $0 } ?? ""), [])
                        do {
                            let result = try await body(session)
                            guard gate.beginCommit() else {
                                throw StoreError(.unavailable, "the call timed out before its commit")
                            }
                            commitSent = true
                            _ = try await session.query("COMMIT", [])
                            return result
                        } catch {
                            _ = try? await session.query("ROLLBACK", [])
                            throw error
                        }
                    }
                } catch {
                    if commitSent {
                        // What became of the COMMIT: refused by the server, never sent, or never run because
                        // the server had ended the session for idling in the transaction (all rolled back), or
                        // unknown.
                        guard PostgresCall.rolledBackAtCommit(error) else {
                            let why = PostgresCall.diagnostic(error)
                            throw StoreError(.outcomeUnknown, "the COMMIT's outcome is unknown: \(why)")
                        }
                        guard gate.commitRefused() else { throw error }
                    }
                    if attempt < Self.transactionAttempts,
                        let state = PostgresCall.statementState(error), Self.retriedStates.contains(state)
                    {
                        attempt += 1
                    } else if PostgresCall.reconnects(after: error, reconnected: reconnected) {
                        reconnected = true
                    } else {
                        throw error
                    }
                }
            }
        }
    }

    private func migrate(creatingSchema: Bool) async throws {
        try await transaction { c in
            // Hosts starting together create the schema once.
            _ = try await c.query("SELECT pg_advisory_xact_lock(?)", [.integer(Self.migrationLock)])
            let exists = try await c.query(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = current_schema()",
                [])
            guard !exists.isEmpty else {
                guard creatingSchema else {
                    throw StoreError(.conflict, "the database has no Coffer schema: start a host on it first")
                }
                _ = try await c.query("CREATE TABLE schema_version (version BIGINT NOT NULL)", [])
                for statement in Self.schema { _ = try await c.query(statement, []) }
                _ = try await c.query("INSERT INTO schema_version (version) VALUES (?)", [.integer(Self.schemaVersion)])
                return
            }
            let current = try await c.query("SELECT version FROM schema_version", []).first?.column("version")?.integer
            guard current == Self.schemaVersion else {
                throw StoreError(
                    .conflict,
                    "the database has schema \(current.map(String.init) ?? "none"); this build knows schema \(Self.schemaVersion)"
                )
            }
        }
    }

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
            // A closed connection would never answer (``PostgresCall/ConnectionClosed``).
            guard !connection.isClosed else { throw PostgresCall.ConnectionClosed() }
            var rows: [SQLRow] = []
            // The column names of the first row, shared by the rest (a result's rows have the same columns).
            var names: [String]?
            do {
                for try await row in try await connection.query(query, logger: logger) {
                    let columns = names ?? row.map(\.columnName)
                    names = columns
                    var values: [SQLValue] = []
                    for cell in row { values.append(try Self.value(cell)) }
                    rows.append(SQLRow(names: columns, values: values))
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw SQLConstraintViolation(.unique, error.serverInfo?[.message] ?? "unique_violation")
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
                throw SQLConstraintViolation(.foreignKey, error.serverInfo?[.message] ?? "foreign_key_violation")
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

        /// A cell of the types the schema has; anything else is a damaged or foreign database.
        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
            case .int8, .int4, .int2: return .integer(Int(try cell.decode(Int64.self)))
            case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .void: return .null
            default: throw StoreError(.database, "column \(cell.columnName) has the unexpected type \(cell.dataType)")
            }
        }
    }
}
