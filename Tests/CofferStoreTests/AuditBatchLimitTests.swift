import Testing

@testable import CofferStore

/// An audit batch is one multi-row INSERT: the largest batch ``AuditBatch/maximumBatch`` is written in
/// one statement on both databases, twice in a row, and the chain across the two verifies.
@Suite struct AuditBatchLimitTests {
    /// Seven values a row; SQLite's smallest compiled-in default limit on bound values is 32,766 and
    /// PostgreSQL's is 65,535.
    @Test func theLargestBatchBindsFewerValuesThanEitherDatabaseAllows() {
        #expect(AuditBatch.maximumBatch * 7 < 32_766)
    }

    @Test(arguments: StoreKind.available) func twoFullBatchesAppendAndVerify(_ kind: StoreKind) async throws {
        let database = try await kind.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        defer { database.remove() }
        let store = try await database.open()
        let full = AuditBatch.maximumBatch
        for round in 0..<2 {
            let entries = (1...full).map { AuditLogTests.entry(round * full + $0) }
            let sequences = try await store.backend.transaction { c in
                try await store.appendAudits(entries, c)
            }
            #expect(sequences == (1...full).map { Int64(round * full + $0) })
        }
        let result = try await store.verifyAudit()
        #expect(result.isIntact && result.count == 2 * full)
        let rows = try await store.auditRecords(after: Int64(full - 1), limit: 2)
        #expect(rows.map(\.entry.eventID) == ["event-\(full)", "event-\(full + 1)"])
        await store.close()
    }
}
