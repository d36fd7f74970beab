import NIOCore

/// A task executor that runs each job on an event loop of `group`: the current thread's loop when it is
/// one of them, else any. Made for one loop (`group` a single `EventLoop`), every job runs on that loop.
///
/// Why: without a preference, a request's task runs on Swift's global pool, so a request crosses threads
/// at each step — the connection's event loop hands the request to a pool thread, the HSM's answer comes
/// back on an event loop and is handed to a pool thread again, and the response goes back to the
/// connection's loop. On a machine with few cores each crossing is a thread wake-up. ``KMSHTTPServer``
/// runs the HTTP service's tasks on the loop that resumes them (the whole group), and each request on its
/// connection's loop (that loop alone), so requests spread over the loops as connections do: GenerateDataKey
/// at one connection went from 8 to 5 context switches per request, and the process's CPU time per
/// request at 16 connections fell by about a tenth (README, "Performance"). Unstructured tasks (PostgreSQL
/// calls, the HSM pool's connects) do not inherit the preference and run on the global pool.
///
/// The price is the one every event-loop server pays: a request computing or blocking holds the loop's
/// other connections for as long. What a request does in the host is short (SigV4, policy, JSON, the
/// session seal). A store call run on the loop is a single SQLite read, which takes no lock, or an audit
/// append whose COMMIT does not sync and which does not wait for another process's write lock there
/// (it moves to SQLite's thread instead: `SQLiteBackend.job`); synced COMMITs and snapshots always run on
/// SQLite's own thread.
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // The current thread's loop when it is one of the group's (queued without waking anything), else
        // any loop of the group.
        let loop = group.any()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
