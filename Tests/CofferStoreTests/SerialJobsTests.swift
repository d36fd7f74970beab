import Synchronization
import Testing

@testable import CofferStore

/// The store's one-at-a-time queue: jobs never overlap, waiters run in arrival order, and a job that
/// throws or a caller cancelled while waiting still hands the turn on.
@Suite(.timeLimit(.minutes(1))) struct SerialJobsTests {
    /// A value shared by jobs (a Mutex cannot be captured by the escaping closures tasks take).
    final class Locked<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
    }

    /// A gate a job waits at until the test opens it.
    final class Gate: Sendable {
        private let opened = Mutex<(open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        func wait() async {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let now = opened.withLock { state in
                    if state.open { return true }
                    state.waiter = waiter
                    return false
                }
                if now { waiter.resume() }
            }
        }

        func open() {
            let waiter = opened.withLock { state in
                state.open = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// Holds the turn with a job waiting at a gate; returns the gate and the job's task.
    static func hold(_ jobs: SerialJobs, _ log: Locked<[Int]>) async -> (Gate, Task<Void, any Error>) {
        let gate = Gate()
        let started = Gate()
        let holder = Task {
            try await jobs.run {
                started.open()
                await gate.wait()
                log.withLock { $0.append(0) }
            }
        }
        await started.wait()
        return (gate, holder)
    }

    /// Waits until `count` callers are parked.
    static func parked(_ jobs: SerialJobs, _ count: Int) async {
        while jobs.waitingCount < count { await Task.yield() }
    }

    @Test func waitersRunInArrivalOrder() async throws {
        let jobs = SerialJobs()
        let log = Locked<[Int]>([])
        let (gate, holder) = await Self.hold(jobs, log)
        var callers: [Task<Void, any Error>] = []
        for n in 1...20 {
            callers.append(Task { try await jobs.run { log.withLock { $0.append(n) } } })
            await Self.parked(jobs, n)
        }
        gate.open()
        try await holder.value
        for caller in callers { try await caller.value }
        #expect(log.withLock { $0 } == Array(0...20))
        #expect(jobs.waitingCount == 0)
    }

    @Test func aJobRunsAtOnceOnlyWhenTheTurnIsFree() async throws {
        let jobs = SerialJobs()
        let log = Locked<[Int]>([])
        // Free: it runs in the caller, and frees the turn again.
        guard
            case .ran(let first) = try await jobs.runIfFree({
                log.withLock { $0.append(1) }
                return 1
            })
        else {
            Issue.record("a free turn refused the job")
            return
        }
        #expect(first == 1)
        // Held: refused without running.
        let (gate, holder) = await Self.hold(jobs, log)
        if case .ran = try await jobs.runIfFree({ log.withLock { $0.append(2) } }) { Issue.record("ran while held") }
        // Held, with a caller waiting: refused, and the waiter runs next.
        let waiter = Task { try await jobs.run { log.withLock { $0.append(3) } } }
        await Self.parked(jobs, 1)
        if case .ran = try await jobs.runIfFree({ log.withLock { $0.append(2) } }) { Issue.record("ran ahead") }
        gate.open()
        try await holder.value
        try await waiter.value
        #expect(log.withLock { $0 } == [1, 0, 3])
        // Free again.
        guard case .ran = try await jobs.runIfFree({ log.withLock { $0.append(4) } }) else {
            Issue.record("the turn was not freed")
            return
        }
        #expect(log.withLock { $0 } == [1, 0, 3, 4])
        #expect(jobs.waitingCount == 0)
    }

    @Test func jobsNeverOverlap() async throws {
        let jobs = SerialJobs()
        let running = Locked((now: 0, most: 0, done: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await jobs.run {
                        running.withLock {
                            $0.now += 1
                            $0.most = max($0.most, $0.now)
                        }
                        await Task.yield()
                        running.withLock {
                            $0.now -= 1
                            $0.done += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(running.withLock { $0.most } == 1)
        #expect(running.withLock { $0.done } == 200)
    }

    struct Refused: Error {}

    @Test func aThrowingJobHandsTheTurnOn() async throws {
        let jobs = SerialJobs()
        let log = Locked<[Int]>([])
        let (gate, holder) = await Self.hold(jobs, log)
        let failing = Task { try await jobs.run { () throws -> Int in throw Refused() } }
        await Self.parked(jobs, 1)
        let next = Task { try await jobs.run { log.withLock { $0.append(2) } } }
        await Self.parked(jobs, 2)
        gate.open()
        try await holder.value
        await #expect(throws: Refused.self) { _ = try await failing.value }
        try await next.value
        #expect(log.withLock { $0 } == [0, 2])
        // The queue is free again.
        try await jobs.run { log.withLock { $0.append(3) } }
        #expect(log.withLock { $0 } == [0, 2, 3])
    }

    @Test func aCallerCancelledWhileWaitingKeepsItsPlace() async throws {
        let jobs = SerialJobs()
        let log = Locked<[Int]>([])
        let (gate, holder) = await Self.hold(jobs, log)
        let cancelled = Task { try await jobs.run { log.withLock { $0.append(Task.isCancelled ? 1 : -1) } } }
        await Self.parked(jobs, 1)
        let after = Task { try await jobs.run { log.withLock { $0.append(2) } } }
        await Self.parked(jobs, 2)
        cancelled.cancel()
        gate.open()
        try await holder.value
        try await cancelled.value
        try await after.value
        #expect(log.withLock { $0 } == [0, 1, 2])
    }
}
