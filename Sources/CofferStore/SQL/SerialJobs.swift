import Synchronization

/// Runs async jobs one at a time, in submission order. The store has one SQLite connection; a
/// transaction is several statements, and no other job's statement may run between them.
///
/// A job runs in its caller's task: a free queue lets the caller straight in, a busy one parks it, and
/// each job's end hands the turn to the one that waited longest. (It used to chain two new tasks per job,
/// which cost every store call two task creations and the thread wake-ups between them; issue 12.) A
/// caller cancelled while it waits keeps its place and runs when its turn comes: the job sees the
/// cancellation, and sqlite-nio's statements ignore it, so a transaction still ends in COMMIT or ROLLBACK.
final class SerialJobs: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func run<T: Sendable>(_ job: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await job()
    }

    /// What ``runIfFree(_:)`` did.
    enum Attempt<T> {
        /// The job ran, with this result.
        case ran(T)
        /// Another job held the turn or waited for it; the job did not run.
        case busy
    }

    /// Runs `job` at once if no job holds the turn or waits for it, else leaves it to the caller to queue
    /// with ``run(_:)``. It never runs ahead of a waiting job: the turn is handed from job to job without
    /// being freed while any waits.
    func runIfFree<T: Sendable>(_ job: () async throws -> T) async throws -> Attempt<T> {
        let entered = state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
        guard entered else { return .busy }
        defer { leave() }
        return .ran(try await job())
    }

    /// Waits for the turn: at once when nobody holds it, else after everyone who asked before.
    private func enter() async {
        let entered = state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
        guard !entered else { return }
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(turn)
                return false
            }
            if now { turn.resume() }
        }
    }

    /// How many callers wait for the turn (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Hands the turn to the longest waiter (it stays busy), or frees it.
    private func leave() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
