import CofferStore
import Foundation
import SQLiteNIO
import Testing

/// A request's audit record is written in the transaction of its first change: once, with the change, and
/// not at all when that change rolls back; when the record cannot be written, the change is not made.
@Suite struct PendingAuditTests {
    static let scope = KeyScope(account: "111122223333", region: "us-east-1")

    static func key(_ id: String) -> KeyRecord {
        KeyRecord(
            scope: scope, id: id, description: "", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: .enabled, creationDate: 1, policy: "{}")
    }

    static func entry(_ id: String) -> AuditEntry {
        AuditEntry(time: 7, eventID: id, keyARN: nil, operation: "CreateKey", record: #"{"e":"\#(id)"}"#)
    }

    static func withStore(_ body: (SQLKeyStore, String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-pending-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLKeyStore.open(path: path, legacyScope: scope)
        try await body(store, path)
        await store.close()
    }

    @Test func theRecordIsWrittenOnceWithTheFirstChange() async throws {
        try await Self.withStore { store, _ in
            let pending = PendingAudit(Self.entry("first"))
            try await PendingAudit.$current.withValue(pending) {
                try await store.createKey(Self.key("k1"), firstBackingKey: nil)
                try await store.setTags([TagRecord(key: "a", value: "b")], on: "k1", in: Self.scope)
            }
            #expect(pending.isWritten)
            let rows = try await store.auditRecords(after: 0, limit: 10)
            #expect(rows.map(\.entry.eventID) == ["first"])
            // The log's own appends never take a pending record.
            let other = PendingAudit(Self.entry("unused"))
            try await PendingAudit.$current.withValue(other) { _ = try await store.appendAudit(Self.entry("own")) }
            #expect(!other.isWritten)
            #expect(try await store.verifyAudit().isIntact)
        }
    }

    @Test func aRolledBackChangeLeavesTheRecordPending() async throws {
        try await Self.withStore { store, _ in
            try await store.createKey(Self.key("k1"), firstBackingKey: nil)
            let pending = PendingAudit(Self.entry("failed"))
            await #expect(throws: StoreError.self) {
                try await PendingAudit.$current.withValue(pending) {
                    try await store.createKey(Self.key("k1"), firstBackingKey: nil)
                }
            }
            #expect(!pending.isWritten)
            #expect(try await store.auditRecords(after: 0, limit: 10).isEmpty)
        }
    }

    @Test func aRecordThatCannotBeWrittenUndoesTheChange() async throws {
        try await Self.withStore { store, path in
            // Behind the store's back, the head table goes: appending a record now fails.
            let connection = try await SQLiteConnection.open(storage: .file(path: path))
            _ = try await connection.query("DROP TABLE audit_head", [])
            try await connection.close()
            let pending = PendingAudit(Self.entry("lost"))
            await #expect(throws: StoreError.self) {
                try await PendingAudit.$current.withValue(pending) {
                    try await store.createKey(Self.key("k2"), firstBackingKey: nil)
                }
            }
            #expect(!pending.isWritten)
            #expect(try await store.key(Self.scope, id: "k2") == nil)
        }
    }
}
