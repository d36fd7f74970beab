import CofferStore
import Foundation
import SQLiteNIO
import Testing

/// The audit log's chain: intact after appends, and broken — at the record named — by any single edit,
/// deletion, insertion or swap of rows made with SQL behind the store's back.
@Suite struct AuditLogTests {
    static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(
            time: 1_800_000_000 + Int64(n), eventID: "event-\(n)", keyARN: n % 2 == 0 ? "arn:key/\(n)" : nil,
            operation: n % 2 == 0 ? "Encrypt" : "ListKeys", record: #"{"n":\#(n)}"#)
    }

    /// A store of five records; `tamper` runs on the file with a plain SQLite connection; returns what
    /// `verifyAudit` finds.
    static func verify(after tamper: [String]) async throws -> AuditVerification {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-audit-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var store = try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r"))
        for n in 1...5 { #expect(try await store.appendAudit(entry(n)) == Int64(n)) }
        await store.close()
        if !tamper.isEmpty {
            let connection = try await SQLiteConnection.open(storage: .file(path: path))
            for statement in tamper { _ = try await connection.query(statement, []) }
            try await connection.close()
        }
        store = try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r"))
        let result = try await store.verifyAudit()
        await store.close()
        return result
    }

    @Test func anIntactLogVerifies() async throws {
        let result = try await Self.verify(after: [])
        #expect(result.isIntact && result.count == 5)
    }

    @Test(arguments: [
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
    func aChangedLogNamesTheFirstBadRecord(_ name: String, _ tamper: [String], _ firstBad: Int64) async throws {
        let result = try await Self.verify(after: tamper)
        #expect(result.firstBad == firstBad, "\(name): \(result)")
    }

    /// A record inserted with a correct chain of its own (its forger computed it from the record before)
    /// passes itself, but the record after it no longer follows it: that one is named.
    @Test func aWellForgedInsertedRecordBreaksTheNextOne() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-audit-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var store = try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r"))
        for n in 1...5 { _ = try await store.appendAudit(Self.entry(n)) }
        let second = try #require(try await store.auditRecords(after: 1, limit: 1).first)
        await store.close()
        let forged = AuditEntry(
            time: 1_800_000_002, eventID: "forged", keyARN: nil, operation: "ListKeys", record: "{}")
        let chain = AuditChain.link(previous: second.chain, sequence: 3, entry: forged)
        let hex = chain.map { String(format: "%02x", $0) }.joined()
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in [
            "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3", "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13",
            "INSERT INTO audit_log VALUES (3, 1800000002, 'forged', NULL, 'ListKeys', '{}', x'\(hex)')",
        ] {
            _ = try await connection.query(statement, [])
        }
        try await connection.close()
        store = try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r"))
        #expect(try await store.verifyAudit().firstBad == 4)
        await store.close()
    }

    @Test func lastUseIsTheNewestSuccessfulRecordOfTheKey() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-audit-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLKeyStore.open(path: path, legacyScope: KeyScope(account: "1", region: "r"))
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
