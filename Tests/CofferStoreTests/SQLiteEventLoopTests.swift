import Foundation
import NIOCore
import NIOPosix
import SQLiteNIO
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

    /// Another connection holds the write lock while an append starts on a loop. The loop's next task runs
    /// only once the append has let go of the loop; the lock is released only then. An append that waited
    /// on the loop would have given up (its 5-second busy timeout passing while the lock is held) before
    /// the loop ran anything else, and failed; one that moved to the connection's thread succeeds.
    @Test func anAppendOnAnEventLoopWaitsForAnotherConnectionsLockOffTheLoop() async throws {
        let (store, path) = try await SQLiteCheckpointTests.fresh()
        defer { SQLiteCheckpointTests.remove(path) }
        _ = try await store.appendAudit(AuditLogTests.entry(0))  // the schema and the first record
        let other = try SQLiteHandle(.file(path: path), name: "coffer-sqlite-other")
        _ = try other.query("BEGIN IMMEDIATE", [])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let append = try await loop.submit {
            Task(executorPreference: OneLoop(loop)) { try await store.appendAudit(AuditLogTests.entry(1)) }
        }.get()
        try await loop.submit {}.get()
        _ = try other.query("COMMIT", [])
        other.close()
        #expect(try await append.value == 2)
        #expect(try await store.auditRecords(after: 0, limit: 10).count == 2)
        await store.close()
        try await group.shutdownGracefully()
    }
}
