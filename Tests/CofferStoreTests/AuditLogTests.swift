import Foundation
import Testing

@testable import CofferStore

/// The audit log's chain: intact after appends, and broken — at the record named — by any single edit,
/// deletion, insertion or swap of rows made with SQL behind the store's back.
@Suite struct AuditLogTests {
    static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(
            time: 1_800_000_000 + Int64(n), eventID: "event-\(n)", keyARN: n % 2 == 0 ? "arn:key/\(n)" : nil,
            operation: n % 2 == 0 ? "Encrypt" : "ListKeys", record: #"{"n":\#(n)}"#)
    }

    /// A store of five records; `tamper` runs on the database with plain SQL; returns what `verifyAudit`
    /// finds.
    static func verify(_ kind: StoreKind, after tamper: [String]) async throws -> AuditVerification {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        defer { database.remove() }
        var store = try await database.open()
        for n in 1...5 { #expect(try await store.appendAudit(entry(n)) == Int64(n)) }
        try await database.execute(tamper, on: store)
        await store.close()
        store = try await database.open()
        let result = try await store.verifyAudit()
        await store.close()
        return result
    }

    /// Records appended together are grouped into shared transactions: each caller gets its own
    /// sequence number, none is lost or written twice, and the chain verifies.
    @Test(arguments: StoreKind.available) func concurrentAppendsGetDistinctNumbersAndAnIntactChain(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        defer { database.remove() }
        let store = try await database.open()
        let count = 300
        let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
            for n in 1...count { group.addTask { try await store.appendAudit(Self.entry(n)) } }
            var all: [Int64] = []
            for try await sequence in group { all.append(sequence) }
            return all
        }
        #expect(sequences.sorted() == (1...Int64(count)).map { $0 })
        let result = try await store.verifyAudit()
        #expect(result.isIntact && result.count == count)
        let rows = try await store.auditRecords(after: 0, limit: count + 1)
        #expect(Set(rows.map(\.entry.eventID)) == Set((1...count).map { "event-\($0)" }))
        await store.close()
    }

    /// The chain value's bytes are fixed (a log written by one version verifies under the next): known
    /// answers computed independently, with Python's hashlib, from the definition in docs/access-control.md.
    @Test func theChainValueHasKnownAnswers() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        let first = AuditEntry(
            time: 1_800_000_000, eventID: "e-1", keyARN: nil, operation: "ListKeys", record: #"{"k":"déjà"}"#)
        #expect(
            hex(AuditChain.link(previous: AuditChain.genesis, sequence: 1, entry: first))
                == "f3651dc1349f04db02bdb228ee878b07e84145c2364bbbd54429cf439d7c040f")
        let second = AuditEntry(
            time: 1 << 33, eventID: "e-2", keyARN: "arn:aws:kms:us-east-1:111122223333:key/k", operation: "Encrypt",
            record: "")
        #expect(
            hex(AuditChain.link(previous: [UInt8](repeating: 0xAB, count: 32), sequence: (1 << 40) + 7, entry: second))
                == "2c1d182a3f8b72b5f6ffe1d53e9c9dc16321d1dbeee15ed4d822e3fcf6472ba3")
    }

    @Test(arguments: StoreKind.available) func anIntactLogVerifies(_ kind: StoreKind) async throws {
        let result = try await Self.verify(kind, after: [])
        #expect(result.isIntact && result.count == 5)
    }

    @Test(
        arguments: StoreKind.available,
        [
            ("an edited record", [#"UPDATE audit_log SET record = '{"n":33}' WHERE seq = 3"#], Int64(3)),
            ("an edited key ARN", ["UPDATE audit_log SET key_arn = 'arn:key/other' WHERE seq = 2"], Int64(2)),
            ("an edited time", ["UPDATE audit_log SET time = time + 1 WHERE seq = 4"], Int64(4)),
            ("a deleted record", ["DELETE FROM audit_log WHERE seq = 3"], Int64(3)),
            ("a deleted first record", ["DELETE FROM audit_log WHERE seq = 1"], Int64(1)),
            ("a deleted last record", ["DELETE FROM audit_log WHERE seq = 5"], Int64(5)),
            (
                "an inserted record with a copied chain",
                [
                    "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3",
                    "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13",
                    "INSERT INTO audit_log SELECT 3, time, 'forged', key_arn, operation, record, chain FROM audit_log WHERE seq = 2",
                ], Int64(3)
            ),
            ("the head removed", ["DELETE FROM audit_head"], Int64(6)),
            (
                "a record appended without the head",
                [
                    "INSERT INTO audit_log SELECT 6, time, 'forged', key_arn, operation, record, chain FROM audit_log WHERE seq = 5"
                ], Int64(6)
            ),
            (
                "a record before the first",
                [
                    "INSERT INTO audit_log SELECT 0, time, 'forged', key_arn, operation, record, chain FROM audit_log WHERE seq = 1"
                ], Int64(0)
            ),
            (
                "two records swapped",
                [
                    "UPDATE audit_log SET seq = 100 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                    "UPDATE audit_log SET seq = 3 WHERE seq = 100",
                ], Int64(2)
            ),
        ])
    func aChangedLogNamesTheFirstBadRecord(
        _ kind: StoreKind, _ change: (name: String, tamper: [String], firstBad: Int64)
    ) async throws {
        let (name, tamper, firstBad) = change
        let result = try await Self.verify(kind, after: tamper)
        #expect(result.firstBad == firstBad, "\(name): \(result)")
    }

    /// A record inserted with a correct chain of its own (its forger computed it from the record before)
    /// passes itself, but the record after it no longer follows it: that one is named.
    @Test(arguments: StoreKind.available) func aWellForgedInsertedRecordBreaksTheNextOne(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        defer { database.remove() }
        var store = try await database.open()
        for n in 1...5 { _ = try await store.appendAudit(Self.entry(n)) }
        let second = try #require(try await store.auditRecords(after: 1, limit: 1).first)
        let forged = AuditEntry(
            time: 1_800_000_002, eventID: "forged", keyARN: nil, operation: "ListKeys", record: "{}")
        let chain = AuditChain.link(previous: second.chain, sequence: 3, entry: forged)
        let hex = chain.map { String(format: "%02x", $0) }.joined()
        let blob = kind == .postgres ? "decode('\(hex)', 'hex')" : "x'\(hex)'"
        try await database.execute(
            [
                "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3",
                "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13",
                "INSERT INTO audit_log VALUES (3, 1800000002, 'forged', NULL, 'ListKeys', '{}', \(blob))",
            ], on: store)
        await store.close()
        store = try await database.open()
        #expect(try await store.verifyAudit().firstBad == 4)
        await store.close()
    }

    /// A log in memory with a retention (`coffer dev --ephemeral`) drops its oldest records each time its
    /// sequence crosses a thousand, keeping at least the retention; it verifies from the last record dropped
    /// (the anchor) and still finds an edit anywhere after it, the oldest kept record's included, and a
    /// removal of the oldest kept; GetKeyLastUsage's tracking starts at the oldest record kept.
    @Test func aLogInMemoryWithARetentionKeepsItsNewestRecordsAndStillVerifies() async throws {
        let store = try await SQLKeyStore.openInMemory(auditRetention: 1_500)
        for chunk in 0..<26 {
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for n in (chunk * 100 + 1)...(chunk * 100 + 100) {
                    group.addTask { try await store.appendAudit(Self.entry(n)) }
                }
                for try await _ in group {}
            }
        }
        // Crossing 1,000 kept all (fewer than 1,500); crossing 2,000 dropped records 1 to 500.
        let rows = try await store.auditRecords(after: 0, limit: 5_000)
        #expect(rows.count == 2_100 && rows.first?.sequence == 501 && rows.last?.sequence == 2_600)
        #expect(try await store.verifyAudit() == AuditVerification(count: 2_100))
        let use = try await store.lastUse(of: "arn:key/none", operations: ["Encrypt"])
        #expect(use.row == nil && use.trackingStart == rows.first?.entry.time)
        // Each damage lies before the last, so each is the first one found.
        for (damage, firstBad) in [
            ("UPDATE audit_log SET record = '{}' WHERE seq = 1000", 1_000),
            ("UPDATE audit_log SET record = '{}' WHERE seq = 501", 501),
            ("DELETE FROM audit_log WHERE seq <= 510", 501),
        ] {
            _ = try await store.backend.read { c in try await c.query(damage, []) }
            #expect(try await store.verifyAudit().firstBad == Int64(firstBad), "\(damage)")
        }
        await store.close()
    }

    @Test(arguments: StoreKind.available) func lastUseIsTheNewestSuccessfulRecordOfTheKey(
        _ kind: StoreKind
    ) async throws {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        defer { database.remove() }
        let store = try await database.open()
        #expect(try await store.lastUse(of: "arn:key/2", operations: ["Encrypt"]).row == nil)
        for n in 1...5 { _ = try await store.appendAudit(Self.entry(n)) }
        _ = try await store.appendAudit(
            AuditEntry(
                time: 1_900_000_000, eventID: "failed", keyARN: "arn:key/2", operation: "Encrypt",
                record: #"{"errorCode":"AccessDeniedException"}"#))
        let use = try await store.lastUse(of: "arn:key/2", operations: ["Encrypt", "Decrypt"])
        #expect(use.row?.entry.eventID == "event-2" && use.trackingStart == 1_800_000_001)
        await store.close()
    }
}
