import Foundation
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization
import Testing

@testable import CofferStore

/// The host runs its request tasks on event loops (CofferServer's `EventLoopTaskExecutor`). An audit append
/// made there must not wait on the loop for a write lock another process holds: it gives the loop back at
/// once and waits on the connection's own thread.
@Suite struct SQLiteEventLoopTests {
    /// Runs every job on one event loop, as the host's executor does for a task its loop resumes.
    final class OneLoop: TaskExecutor {
        let loop: any EventLoop
        init(_ loop: any EventLoop) { self.loop = loop }
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// Whether `loop` runs a task within `seconds` (false: it is held, by a job waiting on it). Returns by
    /// then either way: a task the loop never runs does not hold the test.
    static func turn(of loop: any EventLoop, within seconds: Int) async -> Bool {
        await withCheckedContinuation { (answer: CheckedContinuation<Bool, Never>) in
            let pending = Mutex<CheckedContinuation<Bool, Never>?>(answer)
            let resume = { @Sendable (ran: Bool) in pending.withLock { $0.take() }?.resume(returning: ran) }
            loop.execute { resume(true) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) { resume(false) }
        }
    }

    /// Another connection holds the write lock while an append starts on a loop, and releases it only after
    /// fifty more turns of the loop. The append tries its transaction within a turn or two (its batch
    /// yields once first), and the connection is set to wait ten minutes for a lock: an append that waited
    /// for it on the loop would stop the turns (each is given 30 seconds, against microseconds). One that
    /// gives the loop back at once and waits on the connection's thread lets every turn come, and succeeds
    /// once the lock is released. (Checked: without the inline write's busy timeout of 0, this fails.)
    @Test func anAppendOnAnEventLoopWaitsForAnotherConnectionsLockOffTheLoop() async throws {
        let (store, path) = try await SQLiteCheckpointTests.fresh()
        defer { SQLiteCheckpointTests.remove(path) }
        _ = try await store.appendAudit(AuditLogTests.entry(0))  // the schema and the first record
        let backend = try #require(store.backend as? SQLiteBackend)
        backend.handle.setBusyTimeout(milliseconds: 600_000)
        let other = try SQLiteHandle(.file(path: path), name: "coffer-sqlite-other")
        _ = try other.query("BEGIN IMMEDIATE", [])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let append = try await loop.submit {
            Task(executorPreference: OneLoop(loop)) { try await store.appendAudit(AuditLogTests.entry(1)) }
        }.get()
        var turns = 0
        while turns < 50, await Self.turn(of: loop, within: 30) { turns += 1 }
        _ = try other.query("COMMIT", [])
        other.close()
        #expect(turns == 50, "the loop stopped while another connection held the lock: an append waited on it")
        #expect(try await append.value == 2)
        #expect(try await store.auditRecords(after: 0, limit: 10).count == 2)
        await store.close()
        try await group.shutdownGracefully()
    }
}
