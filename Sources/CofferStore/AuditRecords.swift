import Synchronization

/// One audit record to append: a call as the service saw it, its CloudTrail-shaped JSON, and the fields
/// the store indexes (the key and the operation, for GetKeyLastUsage).
public struct AuditEntry: Sendable, Equatable {
    /// Seconds since 1970.
    public var time: Int64
    /// The record's unique id (CloudTrail's eventID).
    public var eventID: String
    /// The key the call named, by ARN.
    public var keyARN: String?
    /// The operation.
    public var operation: String
    /// The whole record as JSON text (never a plaintext or a secret: the service writes only allowed
    /// members).
    public var record: String

    /// An entry.
    public init(time: Int64, eventID: String, keyARN: String?, operation: String, record: String) {
        self.time = time
        self.eventID = eventID
        self.keyARN = keyARN
        self.operation = operation
        self.record = record
    }
}

/// A stored audit record: its entry, its place in the log and its chain value.
public struct AuditRow: Sendable, Equatable {
    /// The position (1, 2, 3, …).
    public var sequence: Int64
    /// The entry.
    public var entry: AuditEntry
    /// SHA-256 over the previous chain value and this row (``AuditChain``).
    public var chain: [UInt8]

    /// A row.
    public init(sequence: Int64, entry: AuditEntry, chain: [UInt8]) {
        self.sequence = sequence
        self.entry = entry
        self.chain = chain
    }
}

/// What a check of the whole log found.
public struct AuditVerification: Sendable, Equatable {
    /// The number of records checked.
    public var count: Int64
    /// The first record that is not what the chain says (its sequence number), nil when the log is intact.
    public var firstBad: Int64?
    /// Why it is bad.
    public var reason: String?

    /// A result.
    public init(count: Int64, firstBad: Int64? = nil, reason: String? = nil) {
        self.count = count
        self.firstBad = firstBad
        self.reason = reason
    }

    /// Whether the log is intact.
    public var isIntact: Bool { firstBad == nil }
}

/// An audit record that belongs to a change: the store writes it in the same transaction as the first
/// change made while it is ``current`` (a request's), so the change and its record are durable together
/// or not at all. A request that changes nothing leaves it unwritten, and its record is appended alone.
public final class PendingAudit: Sendable {
    /// The record of the request this task is serving, if any.
    @TaskLocal public static var current: PendingAudit?

    private let state: Mutex<(entry: AuditEntry, written: Bool)>

    /// A pending record.
    public init(_ entry: AuditEntry) {
        state = Mutex((entry, false))
    }

    /// Whether a transaction has committed it.
    public var isWritten: Bool { state.withLock { $0.written } }

    /// The record.
    public var entry: AuditEntry { state.withLock { $0.entry } }

    /// The entry, once: the transaction that takes it writes it (``release()`` gives it back if that
    /// transaction rolls back).
    func take() -> AuditEntry? {
        state.withLock { state in
            guard !state.written else { return nil }
            state.written = true
            return state.entry
        }
    }

    /// Gives back an entry whose transaction rolled back.
    func release() {
        state.withLock { $0.written = false }
    }
}
