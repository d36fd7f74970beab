import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CofferStore

/// Group commit without a task of its own: a caller alone writes its own record; callers arriving while
/// a batch is written are written together by the longest waiter, in arrival order, each answered with
/// its own number or its batch's error, and a writer's cancellation fails no one else. Every step waits
/// on explicit gates and counts, never on time.
@Suite(.timeLimit(.minutes(1))) struct AuditBatchTests {
    typealias Gate = SerialJobsTests.Gate

    /// A log in memory. Its `write` can hold a numbered call at a gate, and fails like a PostgreSQL call
    /// (`unavailable`, rolled back) when its task is cancelled.
    final class Log: Sendable {
        struct State {
            var rows: [AuditEntry] = []
            var batches: [Int] = []
            var calls = 0
            /// Gates held calls wait at, by call number (1, 2, …), and gates opened when they start.
            var holds: [Int: Gate] = [:]
            var starts: [Int: Gate] = [:]
            /// A call (by number) that fails with `database`.
            var failing: Int?
        }

        let state = Mutex(State())

        /// Makes call `number` wait at a gate; returns it and a gate opened when the call starts.
        func hold(_ number: Int) -> (release: Gate, started: Gate) {
            let gates = (Gate(), Gate())
            state.withLock { state in
                state.holds[number] = gates.0
                state.starts[number] = gates.1
            }
            return gates
        }

        func write(_ entries: [AuditEntry]) async throws -> [Int64] {
            let (call, hold, start) = state.withLock { state in
                state.calls += 1
                return (state.calls, state.holds[state.calls], state.starts[state.calls])
            }
            start?.open()
            await hold?.wait()
            if Task.isCancelled { throw StoreError(.unavailable, "cancelled: rolled back") }
            return try state.withLock { state in
                if call == state.failing { throw StoreError(.database, "refused") }
                let first = state.rows.count + 1
                state.rows += entries
                state.batches.append(entries.count)
                return (first...(first + entries.count - 1)).map(Int64.init)
            }
        }
    }

    static func entry(_ number: Int) -> AuditEntry {
        AuditEntry(time: 0, eventID: "e\(number)", keyARN: nil, operation: "Op", record: "{}")
    }

    /// Starts callers `numbers` one after another, each parked before the next starts.
    static func park(
        _ numbers: ClosedRange<Int>, on batch: AuditBatch, _ log: Log, already: Int = 0
    ) async -> [Task<Int64, any Error>] {
        var tasks: [Task<Int64, any Error>] = []
        for number in numbers {
            tasks.append(Task { try await batch.append(entry(number), write: log.write) })
            while batch.waitingCount < already + tasks.count { await Task.yield() }
        }
        return tasks
    }

    /// Caller e0 writing alone, held inside its write, and callers `parked` waiting behind it; returns e0's
    /// task, the gate that lets its write finish, and the parked callers.
    static func heldBatch(
        _ batch: AuditBatch, _ log: Log, parked numbers: ClosedRange<Int>
    ) async -> (first: Task<Int64, any Error>, release: Gate, parked: [Task<Int64, any Error>]) {
        let (release, started) = log.hold(1)
        let first = Task { try await batch.append(entry(0), write: log.write) }
        await started.wait()
        return (first, release, await park(numbers, on: batch, log))
    }

    @Test func aCallerAloneWritesItsOwnRecord() async throws {
        let batch = AuditBatch()
        let log = Log()
        for number in 1...3 {
            #expect(try await batch.append(Self.entry(number), write: log.write) == Int64(number))
        }
        #expect(log.state.withLock { $0.batches } == [1, 1, 1])
    }

    /// Callers that an event loop runs in one turn (requests whose HSM answers came in one read) share one
    /// batch: the first lets the loop run what is queued before it takes the waiting records.
    @Test func callersQueuedOnOneLoopTogetherShareABatch() async throws {
        let batch = AuditBatch()
        let log = Log()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let callers = try await loop.submit {
            (1...5).map { number in
                Task(executorPreference: SQLiteEventLoopTests.OneLoop(loop)) {
                    try await batch.append(Self.entry(number), write: log.write)
                }
            }
        }.get()
        var numbers: [Int64?] = []
        for caller in callers { numbers.append(try? await caller.value) }
        try await group.shutdownGracefully()
        #expect(numbers == [1, 2, 3, 4, 5])
        #expect(log.state.withLock { $0.batches } == [5])
    }

    @Test func callersThatArriveWhileABatchIsWrittenShareTheNextInArrivalOrder() async throws {
        let batch = AuditBatch()
        let log = Log()
        let (first, release, parked) = await Self.heldBatch(batch, log, parked: 1...300)
        release.open()
        #expect(try await first.value == 1)
        for (index, caller) in parked.enumerated() { #expect(try await caller.value == Int64(index + 2)) }
        let (rows, batches) = log.state.withLock { ($0.rows, $0.batches) }
        // One alone, then the longest waiter writes 256 (the limit), then the rest.
        #expect(batches == [1, AuditBatch.maximumBatch, 300 - AuditBatch.maximumBatch])
        #expect(rows.map(\.eventID) == (0...300).map { "e\($0)" })
        #expect(batch.waitingCount == 0)
    }

    @Test func aFailedBatchFailsEveryCallerInItAndTheNextBatchIsWritten() async throws {
        let batch = AuditBatch()
        let log = Log()
        log.state.withLock { $0.failing = 2 }
        let (first, release, waiters) = await Self.heldBatch(batch, log, parked: 1...3)
        release.open()
        #expect(try await first.value == 1)
        for waiter in waiters {
            await #expect(throws: StoreError.self) { try await waiter.value }
        }
        // Nothing stuck: the next caller writes again.
        #expect(try await batch.append(Self.entry(4), write: log.write) == 2)
        #expect(batch.waitingCount == 0)
    }

    @Test func aWaiterCancelledBeforeItsTurnStillWritesTheBatchItLeads() async throws {
        let batch = AuditBatch()
        let log = Log()
        let (first, release, waiters) = await Self.heldBatch(batch, log, parked: 1...3)
        waiters[0].cancel()  // it leads the next batch
        release.open()
        #expect(try await first.value == 1)
        for (index, waiter) in waiters.enumerated() { #expect(try await waiter.value == Int64(index + 2)) }
        #expect(log.state.withLock { $0.batches } == [1, 3])
    }

    @Test func aWriterCancelledWhileItWritesFailsAloneAndTheOthersAreWrittenNext() async throws {
        let batch = AuditBatch()
        let log = Log()
        let (releaseSecond, startedSecond) = log.hold(2)
        let (first, releaseFirst, waiters) = await Self.heldBatch(batch, log, parked: 1...3)
        releaseFirst.open()
        #expect(try await first.value == 1)
        // The longest waiter writes the three; it is cancelled while its write is held.
        await startedSecond.wait()
        let late = await Self.park(4...4, on: batch, log)
        waiters[0].cancel()
        releaseSecond.open()
        await #expect(throws: StoreError.self) { try await waiters[0].value }
        // The other two, then the late one, are written by the next writer, once each, in arrival order.
        #expect(try await waiters[1].value == 2)
        #expect(try await waiters[2].value == 3)
        #expect(try await late[0].value == 4)
        #expect(log.state.withLock { $0.rows.map(\.eventID) } == ["e0", "e2", "e3", "e4"])
        #expect(batch.waitingCount == 0)
    }
}
