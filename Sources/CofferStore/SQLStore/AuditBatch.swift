/// Group commit for the audit log's own appends (calls that change nothing: Encrypt, Decrypt,
/// GenerateDataKey …): records that arrive while one batch's transaction runs are written together by
/// the next, in one transaction, in arrival order. Each caller still returns only after its record is
/// committed (safe from a crash of this process, on disk within about a second:
/// ``CommitDurability/deferredSync``), with its own sequence number, or with the batch's error: no call
/// succeeds unrecorded.
/// Under load, one transaction carries many records instead of one each; alone, a record waits for
/// nothing.
actor AuditBatch {
    /// The most records one transaction carries.
    static let maximumBatch = 256

    private var waiting: [(entry: AuditEntry, caller: CheckedContinuation<Int64, any Error>)] = []
    private var writing = false

    /// Appends `entry` with the next batch that `write` commits (it appends the records it is given, in
    /// order, in one transaction, and returns their sequence numbers); the entry's sequence number.
    func append(
        _ entry: AuditEntry, write: @escaping @Sendable ([AuditEntry]) async throws -> [Int64]
    ) async throws -> Int64 {
        try await withCheckedThrowingContinuation { caller in
            waiting.append((entry, caller))
            guard !writing else { return }
            writing = true
            Task { await self.drain(write) }
        }
    }

    /// Writes batches until nobody waits.
    private func drain(_ write: @Sendable ([AuditEntry]) async throws -> [Int64]) async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(Self.maximumBatch))
            waiting.removeFirst(batch.count)
            do {
                let sequences = try await write(batch.map(\.entry))
                guard sequences.count == batch.count else {
                    throw StoreError(.database, "the audit batch returned \(sequences.count) of \(batch.count)")
                }
                for (waiter, sequence) in zip(batch, sequences) { waiter.caller.resume(returning: sequence) }
            } catch {
                for waiter in batch { waiter.caller.resume(throwing: error) }
            }
        }
        writing = false
    }
}
