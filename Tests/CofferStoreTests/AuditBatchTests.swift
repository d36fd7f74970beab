import Synchronization
import Testing

@testable import CofferStore

/// Group commit without a task of its own: a caller alone writes its own record; callers arriving while
/// a batch is written are written together by the longest waiter, in arrival order, each answered with
/// its own number or its batch's error.
@Suite struct AuditBatchTests {
    /// A log in memory: `write` appends a batch after a pause (so that callers pile up while it runs)
    /// and can be told to fail.
    final class Log: Sendable {
        struct State {
            var rows: [AuditEntry] = []
            var batches: [Int] = []
            var calls = 0
            /// The write call (1, 2, …) that fails.
            var failing: Int?
        }

        let state = Mutex(State())
        let pause: Duration

        init(pause: Duration) { self.pause = pause }

        struct Refused: Error {}

        func write(_ entries: [AuditEntry]) async throws -> [Int64] {
            let call = state.withLock { state in
                state.calls += 1
                return state.calls
            }
            try await Task.sleep(for: pause)
            return try state.withLock { state in
                if call == state.failing { throw Refused() }
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

    @Test func aCallerAloneWritesItsOwnRecord() async throws {
        let batch = AuditBatch()
        let log = Log(pause: .zero)
        for number in 1...3 {
            #expect(try await batch.append(Self.entry(number), write: log.write) == Int64(number))
        }
        #expect(log.state.withLock { $0.batches } == [1, 1, 1])
    }

    @Test(.timeLimit(.minutes(1))) func callersThatArriveTogetherShareBatchesAndGetTheirOwnNumbers() async throws {
        let batch = AuditBatch()
        let log = Log(pause: .milliseconds(20))
        let count = 600
        let numbers = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for number in 1...count {
                group.addTask { (number, try await batch.append(Self.entry(number), write: log.write)) }
            }
            return try await group.reduce(into: [Int: Int64]()) { $0[$1.0] = $1.1 }
        }
        let (rows, batches) = log.state.withLock { ($0.rows, $0.batches) }
        // Every record written once, and each caller answered with its own row's number.
        #expect(rows.count == count)
        #expect(Set(rows.map(\.eventID)).count == count)
        for (number, sequence) in numbers { #expect(rows[Int(sequence) - 1].eventID == "e\(number)") }
        // Grouped: fewer transactions than callers, none above the limit.
        #expect(batches.count < count)
        #expect(batches.allSatisfy { $0 <= AuditBatch.maximumBatch })
        #expect(batches.max() ?? 0 > 1)
        #expect(batch.waitingCount == 0)
    }

    @Test(.timeLimit(.minutes(1))) func aFailedBatchFailsEveryCallerInItAndTheNextBatchIsWritten() async throws {
        let batch = AuditBatch()
        let log = Log(pause: .milliseconds(500))
        log.state.withLock { $0.failing = 2 }
        // The first caller writes alone; three arrive while it writes and wait for the next batch, which fails.
        let first = Task { try await batch.append(Self.entry(0), write: log.write) }
        while log.state.withLock({ $0.calls }) < 1 { try await Task.sleep(for: .milliseconds(1)) }  // it writes
        let waiters = (1...3).map { number in
            Task { try await batch.append(Self.entry(number), write: log.write) }
        }
        while batch.waitingCount < 3 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(try await first.value == 1)
        for waiter in waiters {
            await #expect(throws: Log.Refused.self) { try await waiter.value }
        }
        // Nothing stuck: the next caller writes again.
        #expect(try await batch.append(Self.entry(4), write: log.write) == 2)
        #expect(batch.waitingCount == 0)
    }
}
