import Crypto

/// The audit log: rows numbered 1, 2, 3, … each carrying SHA-256 over the previous row's chain value and
/// every column of its own (``AuditChain``), and a one-row head holding the last sequence number and chain
/// value. An edited, inserted, removed or reordered row breaks the chain at that row; removing the newest
/// rows leaves the head pointing past the end. (Someone who can rewrite the whole table and the head can
/// forge a consistent log: export it regularly to keep an outside copy of the head.) A log in memory with a
/// retention (``openInMemory(auditRetention:logger:)``) drops its oldest rows and keeps, in a one-row
/// anchor, the sequence number and chain value of the last row dropped: its chain is checked from there.
extension SQLKeyStore {
    /// The table of a log with a retention that holds the last dropped row's sequence number and chain value.
    static let auditAnchorTable =
        "CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, chain BLOB NOT NULL)"

    /// The PostgreSQL advisory lock that orders audit appends (an arbitrary constant of this schema).
    static let auditLock = 0x636F_6666_6572  // "coffer"

    /// Appends `entry` alone (a call that changes nothing), grouped with the records of other calls that
    /// arrive meanwhile into one transaction (``AuditBatch``), committed safe from a crash of this process
    /// and on disk within about a second (``CommitDurability/deferredSync``).
    public func appendAudit(_ entry: AuditEntry) async throws(StoreError) -> Int64 {
        do {
            return try await auditBatch.append(entry) { entries in
                // On disk within about a second, not before the answer (CommitDurability.deferredSync).
                try await self.transaction(attachingAudit: false, durability: .deferredSync) { c in
                    try await self.appendAudits(entries, c)
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// How many records a log with a retention grows past it before its oldest are removed (in the
    /// transaction of the append that crosses a multiple of this).
    static let retentionSlack: Int64 = 1_000

    /// Appends `entries` in order after the last row and moves the head once, inside the caller's
    /// transaction; their sequence numbers. With an ``auditRetention``, whenever the sequence crosses a
    /// multiple of ``retentionSlack`` the records older than the newest `auditRetention` are removed and the
    /// last of them becomes the anchor.
    func appendAudits(_ entries: [AuditEntry], _ c: any SQLConnection) async throws -> [Int64] {
        guard !entries.isEmpty else { return [] }
        // The last row, not the head: a removed head row must not stop the log (verify reports it).
        // Appends are one at a time: on PostgreSQL, hosts' transactions take the log's lock (held to their
        // COMMIT) before they read its end; SQLite's write transactions are serial already.
        if c.dialect == .postgres {
            _ = try await c.query("SELECT pg_advisory_xact_lock(?)", [.integer(Self.auditLock)])
        }
        let last = try await c.query("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1", []).first
        var sequence = Int64(last?.column("seq")?.integer ?? 0)
        var chain = last.map { Self.bytes($0.column("chain")) } ?? AuditChain.genesis
        let first = sequence + 1
        // One INSERT for the whole batch (at most AuditBatch.maximumBatch rows of 7 values, far below
        // either database's limit on bound values): the log's transaction, which every other store call
        // on SQLite's one connection waits for, takes five statements however many calls it records.
        var values: [SQLValue] = []
        values.reserveCapacity(entries.count * 7)
        for entry in entries {
            sequence += 1
            chain = AuditChain.link(previous: chain, sequence: sequence, entry: entry)
            values += [
                .integer(Int(sequence)), .integer(Int(entry.time)), .text(entry.eventID),
                entry.keyARN.map { .text($0) } ?? .null, .text(entry.operation), .text(entry.record), .blob(chain),
            ]
        }
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: entries.count).joined(separator: ", ")
        _ = try await c.query(
            "INSERT INTO audit_log (seq, time, event_id, key_arn, operation, record, chain) VALUES \(rows)", values)
        try await Self.setMark("audit_head", sequence: sequence, chain: chain, c)
        if let retention = auditRetention, (first - 1) / Self.retentionSlack != sequence / Self.retentionSlack,
            sequence > retention
        {
            let cut = sequence - retention
            if let dropped = try await c.query("SELECT chain FROM audit_log WHERE seq = ?", [.integer(Int(cut))]).first
            {
                try await Self.setMark("audit_anchor", sequence: cut, chain: Self.bytes(dropped.column("chain")), c)
                _ = try await c.query("DELETE FROM audit_log WHERE seq <= ?", [.integer(Int(cut))])
            }
        }
        return Array(first...sequence)
    }

    /// Sets the one row of `table` (`audit_head`, or a retention's `audit_anchor`) to a record's sequence
    /// number and chain value.
    private static func setMark(
        _ table: String, sequence: Int64, chain: [UInt8], _ c: any SQLConnection
    ) async throws {
        _ = try await c.query(
            "INSERT INTO \(table) (id, seq, chain) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, chain = excluded.chain",
            [.integer(Int(sequence)), .blob(chain)])
    }

    public func auditRecords(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditRow] {
        try await read { c in
            try await c.query(
                "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
                [.integer(Int(sequence)), .integer(limit)]
            ).map(Self.auditRow)
        }
    }

    public func lastUse(
        of keyARN: String, operations: [String]
    ) async throws(StoreError) -> (
        row: AuditRow?, trackingStart: Int64?
    ) {
        let found = try await read { c -> [AuditRow] in
            let marks = operations.map { _ in "?" }.joined(separator: ", ")
            return try await c.query(
                """
                SELECT * FROM audit_log WHERE key_arn = ? AND operation IN (\(marks))
                  AND \(c.dialect == .postgres ? "(record::jsonb ->> 'errorCode')" : "json_extract(record, '$.errorCode')") IS NULL
                  ORDER BY seq DESC LIMIT 1
                """, [.text(keyARN)] + operations.map { .text($0) }
            ).map(Self.auditRow)
        }
        let start = try await read { c in
            // The log's first record (by its key, not a scan of every row's time).
            try await c.query("SELECT time AS t FROM audit_log ORDER BY seq LIMIT 1", []).first?.column("t")?.integer
        }
        return (found.first, start.map(Int64.init))
    }

    public func verifyAudit() async throws(StoreError) -> AuditVerification {
        // One read transaction: records appended meanwhile are not half seen.
        try await snapshot { [auditRetention] c in try await Self.verifyChain(c, anchored: auditRetention != nil) }
    }

    /// The head row's sequence number and chain value (for keeping outside the store).
    public func auditHead() async throws(StoreError) -> (sequence: Int64, chain: [UInt8])? {
        try await read { c in
            try await c.query("SELECT seq, chain FROM audit_head WHERE id = 1", []).first.map {
                (Int64($0.column("seq")?.integer ?? 0), Self.bytes($0.column("chain")))
            }
        }
    }

    /// Verifies the chain from record 1, or, in an `anchored` log (one with a retention) that has dropped
    /// records, from the record after its anchor, chained to the anchor's value.
    private static func verifyChain(_ c: any SQLConnection, anchored: Bool) async throws -> AuditVerification {
        do {
            var previous = AuditChain.genesis
            var start: Int64 = 1
            if anchored, let anchor = try await c.query("SELECT seq, chain FROM audit_anchor WHERE id = 1", []).first {
                start = Int64(anchor.column("seq")?.integer ?? 0) + 1
                previous = Self.bytes(anchor.column("chain"))
            }
            var expected = start
            var count: Int64 = 0
            while true {
                let rows = try await c.query(
                    "SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1000", [.integer(Int(expected))]
                ).map(Self.auditRow)
                for row in rows {
                    guard row.sequence == expected else {
                        return AuditVerification(
                            count: count, firstBad: expected, reason: "record \(expected) is missing")
                    }
                    guard AuditChain.link(previous: previous, sequence: row.sequence, entry: row.entry) == row.chain
                    else {
                        return AuditVerification(
                            count: count, firstBad: row.sequence,
                            reason: "record \(row.sequence) does not match the chain (edited, inserted or moved)")
                    }
                    previous = row.chain
                    expected += 1
                    count += 1
                }
                if rows.count < 1000 { break }
            }
            // Rows before the first one read (a removed first record) leave `expected` at the start with
            // rows after it; a lower sequence than the start (1, or the one after the anchor) is an inserted
            // row.
            if try await !c.query("SELECT 1 FROM audit_log WHERE seq < ?", [.integer(Int(start))]).isEmpty {
                return AuditVerification(count: count, firstBad: 0, reason: "a record before the first")
            }
            if count == 0, try await !c.query("SELECT 1 FROM audit_log", []).isEmpty {
                return AuditVerification(count: 0, firstBad: start, reason: "record \(start) is missing")
            }
            let last = expected - 1
            let head = try await c.query("SELECT seq, chain FROM audit_head WHERE id = 1", []).first
            let headSequence = Int64(head?.column("seq")?.integer ?? 0)
            if headSequence != last || (count > 0 && Self.bytes(head?.column("chain")) != previous) {
                return AuditVerification(
                    count: count, firstBad: last + 1,
                    reason: "the log ends at record \(last) but its head names record \(headSequence)")
            }
            return AuditVerification(count: count)
        }
    }

    static func auditRow(_ row: SQLRow) -> AuditRow {
        AuditRow(
            sequence: Int64(row.column("seq")?.integer ?? 0),
            entry: AuditEntry(
                time: Int64(row.column("time")?.integer ?? 0), eventID: row.column("event_id")?.string ?? "",
                keyARN: row.column("key_arn")?.string, operation: row.column("operation")?.string ?? "",
                record: row.column("record")?.string ?? ""),
            chain: bytes(row.column("chain")))
    }
}

/// The audit chain: `chain(n) = SHA-256("coffer audit v1" ‖ 00 ‖ chain(n−1) ‖ uint64be(n) ‖
/// uint64be(time) ‖ lp(eventID) ‖ lp(keyARN) ‖ lp(operation) ‖ lp(record))`, where `lp` is a 4-byte
/// big-endian length and the bytes (an absent key ARN is the length 0xFFFFFFFF), and `chain(0)` is 32 zero
/// bytes. Every column is in the hash, so editing any one of them breaks the chain.
public enum AuditChain {
    /// `chain(0)`.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The chain value of a row: SHA-256 over one buffer, laid out once (an array per field cost more than
    /// the hash of a 1 KB record).
    public static func link(previous: [UInt8], sequence: Int64, entry: AuditEntry) -> [UInt8] {
        let fields = [entry.eventID, entry.keyARN, entry.operation, entry.record]
        var message: [UInt8] = []
        message.reserveCapacity(
            domain.count + previous.count + 16 + fields.reduce(0) { $0 + 4 + ($1?.utf8.count ?? 0) })
        message += domain
        message += previous
        appendBigEndian(UInt64(bitPattern: sequence), to: &message)
        appendBigEndian(UInt64(bitPattern: entry.time), to: &message)
        for field in fields {
            if let field {
                appendBigEndian(UInt32(truncatingIfNeeded: field.utf8.count), to: &message)
                message += field.utf8
            } else {
                message += [0xFF, 0xFF, 0xFF, 0xFF]
            }
        }
        return Array(SHA256.hash(data: message))
    }

    /// What every chain value's message starts with: `coffer audit v1` and a zero octet.
    private static let domain = Array("coffer audit v1".utf8) + [0]

    private static func appendBigEndian<Value: FixedWidthInteger>(_ value: Value, to message: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { message += $0 }
    }
}
