import CofferStore
import Foundation
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

    static func withStore(
        _ kind: StoreKind, _ body: (SQLKeyStore, TestDatabase) async throws -> Void
    ) async throws {
        let database = try await kind.fresh(legacyScope: scope)
        defer { database.remove() }
        let store = try await database.open()
        try await body(store, database)
        await store.close()
    }

    @Test(arguments: StoreKind.available) func theRecordIsWrittenOnceWithTheFirstChange(_ kind: StoreKind) async throws
    {
        try await Self.withStore(kind) { store, _ in
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

    @Test(arguments: StoreKind.available) func aRolledBackChangeLeavesTheRecordPending(_ kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
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

    @Test(arguments: StoreKind.available) func aRecordThatCannotBeWrittenUndoesTheChange(_ kind: StoreKind) async throws
    {
        try await Self.withStore(kind) { store, database in
            // Behind the store's back, the head table goes: appending a record now fails.
            try await database.execute(["DROP TABLE audit_head"], on: store)
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
