import Synchronization

/// Group commit for the audit log's own appends (calls that change nothing: Encrypt, Decrypt,
/// GenerateDataKey …): records that arrive while one batch's transaction runs are written together by
/// the next, in one transaction, in arrival order. Each caller still returns only after its record is
/// committed (safe from a crash of this process, on disk within about a second:
/// ``CommitDurability/deferredSync``), with its own sequence number, or with the batch's error: no call
/// succeeds unrecorded.
///
/// No task of its own writes the batches: a caller that finds no batch being written writes one itself
/// (its record and up to ``maximumBatch`` − 1 that wait, oldest first), answers the callers it wrote for,
/// and hands the turn to the longest waiter, whose task writes the next batch. Alone, a record is written
/// by its caller's task (a task started per batch cost two thread wake-ups per call; issue 12). Under load,
/// one transaction carries many records instead of one each: a writer first yields once, so that the
/// requests its event loop has already queued (those whose HSM answers came in the same read) reach their
/// appends and join its batch. Without that, a loop's requests ran to their appends one at a time, each
/// finding the previous one's batch written, and batches averaged 1.4 records at 16 connections; with it
/// about 4.4, and GenerateDataKey at 16 connections took 186 µs of CPU where it took 197 (most of an audit
/// transaction's cost is the same whatever it carries). A batch fails as a whole: when its store call
/// fails, every caller in it gets that error. A writer's cancellation does not fail the others (a
/// PostgreSQL call ends early when its task is cancelled): a writer already cancelled
/// when its turn comes writes from a task of its own, and one cancelled while it writes, whose transaction
/// was therefore rolled back (`unavailable`, never `outcomeUnknown`), puts the others' records back at the
/// head of the queue for the next writer and fails alone.
final class AuditBatch: Sendable {
    /// The most records one transaction carries.
    static let maximumBatch = 256

    /// What a waiting caller is woken with.
    private enum Turn: Sendable {
        /// Its record was written with this sequence number.
        case written(Int64)
        /// Its record was in a batch that failed.
        case failed(any Error)
        /// It writes the next batch.
        case write
    }

    private struct Waiter {
        let entry: AuditEntry
        let caller: CheckedContinuation<Turn, Never>
    }

    private struct State {
        /// Whether a caller is writing a batch (it, or the waiter it hands the turn to, writes the next).
        var writing = false
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Appends `entry` with the next batch that `write` commits (it appends the records it is given, in
    /// order, in one transaction, and returns their sequence numbers); the entry's sequence number.
    func append(
        _ entry: AuditEntry, write: @escaping @Sendable ([AuditEntry]) async throws -> [Int64]
    ) async throws -> Int64 {
        let writesNow = state.withLock { state in
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if !writesNow {
            let turn = await withCheckedContinuation { (caller: CheckedContinuation<Turn, Never>) in
                let writes = state.withLock { state in
                    guard state.writing else {
                        state.writing = true
                        return true
                    }
                    state.waiting.append(Waiter(entry: entry, caller: caller))
                    return false
                }
                if writes { caller.resume(returning: .write) }
            }
            switch turn {
            case .written(let sequence): return sequence
            case .failed(let error): throw error
            case .write: break
            }
        }
        return try await writeBatch(first: entry, write)
    }

    /// How many callers wait (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Writes `first` and the records that wait (up to ``maximumBatch`` in all), answers their callers,
    /// hands the turn on, and returns `first`'s sequence number.
    private func writeBatch(
        first: AuditEntry, _ write: @escaping @Sendable ([AuditEntry]) async throws -> [Int64]
    ) async throws -> Int64 {
        // What the executor already has queued runs first, and may join this batch.
        await Task.yield()
        let others = state.withLock { state in
            let taken = Array(state.waiting.prefix(Self.maximumBatch - 1))
            state.waiting.removeFirst(taken.count)
            return taken
        }
        let entries = [first] + others.map(\.entry)
        let cancelledBefore = Task.isCancelled
        let outcome: Result<[Int64], any Error>
        do {
            // A caller cancelled while it waited writes the batch, which carries others' records, from a task
            // its cancellation does not reach.
            let sequences =
                cancelledBefore ? try await Task { try await write(entries) }.value : try await write(entries)
            guard sequences.count == entries.count else {
                throw StoreError(.database, "the audit batch returned \(sequences.count) of \(entries.count)")
            }
            outcome = .success(sequences)
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let sequences):
            for (waiter, sequence) in zip(others, sequences.dropFirst()) {
                waiter.caller.resume(returning: .written(sequence))
            }
        case .failure(let error)
        where !cancelledBefore && Task.isCancelled && (error as? StoreError)?.code == .unavailable:
            // Cancelled while it wrote: rolled back, so nothing of the batch is in the log. The others' records
            // go back, oldest first, to the head of the queue; the next writer writes them.
            state.withLock { $0.waiting.insert(contentsOf: others, at: 0) }
        case .failure(let error):
            for waiter in others { waiter.caller.resume(returning: .failed(error)) }
        }
        let next = state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.writing = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.caller.resume(returning: .write)
        return try outcome.get()[0]
    }
}
