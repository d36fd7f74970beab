/// What the store's SQL needs of a database, whichever it is: statements with `?` placeholders, rows read
/// by column name, and transactions. ``SQLKeyStore`` is written once against this; SQLite
/// (``SQLiteBackend``) and PostgreSQL (``PostgresBackend``) each adapt their driver to it, so both stores
/// behave alike by construction and one conformance suite runs against both.

/// A value bound to a statement or read from a row.
public enum SQLValue: Hashable, Sendable {
    case text(String)
    case integer(Int)
    case blob([UInt8])
    case null

    /// The text, if it is text.
    public var string: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The integer, if it is one.
    public var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }
}

/// One row of a result, by column name: the result's column names, shared by all its rows (not a dictionary
/// per row, built and hashed for every column of every row read), and the row's values in their order.
public struct SQLRow: Sendable {
    let names: [String]
    let values: [SQLValue]

    init(names: [String], values: [SQLValue]) {
        precondition(names.count == values.count, "a row has a value for each column")
        self.names = names
        self.values = values
    }

    /// The column's value (the first column of that name); nil when the row has no such column (a NULL is
    /// ``SQLValue/null``).
    public func column(_ name: String) -> SQLValue? { names.firstIndex(of: name).map { values[$0] } }
}

/// The databases the store speaks to, where their SQL differs.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// A statement broke a constraint: a primary-key or unique one (another writer made the same record
/// first: `alreadyExists`), or a foreign key (the record it refers to was deleted meanwhile: `notFound`).
/// Internal to the store: ``SQLKeyStore/storeError(_:)`` turns it into ``StoreError``.
struct SQLConstraintViolation: Error {
    enum Kind { case unique, foreignKey }
    let kind: Kind
    let detail: String

    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

/// A connection inside a ``SQLBackend`` call: runs statements with `?` placeholders, in order.
protocol SQLConnection: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `sql` with `binds` for its `?`s; the rows it returns (a DML statement's `RETURNING` rows).
    /// A broken constraint throws ``SQLConstraintViolation``.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// When a write transaction's COMMIT returns.
enum CommitDurability: Sendable {
    /// Once the transaction is on disk: SQLite's WAL synced (`synchronous=FULL`), PostgreSQL's commit
    /// flushed (`synchronous_commit` as the server has it, on by default). Every change of keys, aliases,
    /// grants and principals, with its audit record.
    case synced
    /// On SQLite, once the transaction is safe from a crash of this process: the WAL written, and synced
    /// by the checkpointer within about a second (``SQLiteBackend/Checkpointer``); a power loss or kernel
    /// crash in that window loses the transaction, never part of it. PostgreSQL treats it as ``synced``.
    /// Only the audit records of calls that change nothing (Encrypt, Decrypt, GenerateDataKey …), so that
    /// one slow fsync does not hold up every such call on SQLite's one connection.
    case deferredSync
}

/// A database behind the store.
protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` on a connection outside any transaction (a single read, or statements that need none).
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T
    /// Runs `body` in a write transaction: committed when it returns, rolled back when it throws. The
    /// commit returns as `durability` says.
    func transaction<T: Sendable>(
        durability: CommitDurability, _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T
    /// Runs `body` in a read-only transaction that sees one snapshot of the database.
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T
    /// Closes every connection.
    func close() async
}

extension SQLBackend {
    /// Runs `body` in a write transaction whose commit returns once it is on disk (``CommitDurability/synced``).
    func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await transaction(durability: .synced, body)
    }
}
