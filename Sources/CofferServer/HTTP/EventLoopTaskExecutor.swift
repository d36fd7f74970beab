import NIOCore
import NIOPosix
import ServiceLifecycle

/// A task executor that runs each job on the event loop of the thread that enqueues it, or on a loop of
/// `group` when it is enqueued from any other thread.
///
/// Why: without a preference, a request's task runs on Swift's global pool, so a request crosses threads
/// at each step — the connection's event loop hands the request to a pool thread, the answer of the HSM
/// (or of PostgreSQL) comes back on an event loop and is handed to a pool thread again, and the response
/// goes back to the connection's loop. On a machine with few cores each crossing is a thread wake-up.
/// With this executor a task resumed by an event loop keeps running on that loop: GenerateDataKey at one
/// connection went from 8 to 5 context switches per request, and the process's CPU time per request at 16
/// connections fell by about a tenth (README, "Performance").
///
/// The price is the one every event-loop server pays: a request computing or blocking holds the loop's
/// other connections for as long. What a request does in the host is short (SigV4, policy, JSON, the
/// session seal); a store call that can block is a single SQLite statement or a COMMIT without fsync (a
/// synced COMMIT and snapshots stay on SQLite's own thread), which on the global pool held one of as
/// few threads as there are cores.
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // On an event loop's own thread this queues without waking anything.
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs `wrapped` (the HTTP application) with ``EventLoopTaskExecutor`` as its task executor preference,
/// which every connection's and request's child task inherits.
struct EventLoopPreferring<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let executor: EventLoopTaskExecutor

    func run() async throws {
        try await withTaskExecutorPreference(executor) { try await wrapped.run() }
    }
}
