import NIOConcurrencyHelpers
import PostgresNIO

/// One store call on PostgreSQL, bounded in time. The caller is answered when the work ends or when the
/// time is up, whichever is first, and is never made to wait for work stuck in the driver (a query on a
/// connection that died mid-flight can hang until TCP gives up). A transaction commits only if its caller
/// still waits (``Gate``), so `unavailable` always means that nothing was written; a timeout that falls
/// while COMMIT is on the wire is the one case whose outcome is unknown (`outcomeUnknown`).
enum PostgresCall {
    /// The time limits, and the memory of a recent outage that shortens them.
    final class Limits: Sendable {
        /// The longest a call may take, from asking the pool for a connection to its last row.
        static let callTimeout: Duration = .seconds(10)
        /// The longest while the database was found away in the last ``outageMemory``, so that requests
        /// fail fast during an outage.
        static let outageTimeout: Duration = .seconds(2)
        /// How long after a call found the database away the shorter limit applies.
        static let outageMemory: Duration = .seconds(30)
        /// The longest a read-only snapshot (a whole audit log) may take.
        static let snapshotTimeout: Duration = .seconds(600)

        private let outageSince = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

        /// The limit for the next call.
        func timeout() -> Duration {
            outageSince.withLockedValue { since in
                since.map { ContinuousClock.now - $0 < Self.outageMemory } == true
                    ? Self.outageTimeout : Self.callTimeout
            }
        }

        func record(reachable: Bool) {
            outageSince.withLockedValue { since in since = reachable ? nil : since ?? ContinuousClock.now }
        }
    }

    /// Decides between a late COMMIT and the timeout, once.
    final class Gate: Sendable {
        private enum State { case running, committing, timedOut }
        private let state = NIOLockedValueBox(State.running)

        /// Whether the transaction may commit: false when its caller was already answered.
        func beginCommit() -> Bool {
            state.withLockedValue { state in
                guard case .running = state else { return false }
                state = .committing
                return true
            }
        }

        /// Marks the call timed out; whether a COMMIT had already been sent (outcome unknown).
        func timeOut() -> Bool {
            state.withLockedValue { state in
                if case .committing = state { return true }
                state = .timedOut
                return false
            }
        }
    }

    /// Runs `work` within `timeout`; see ``PostgresCall``.
    static func run<T: Sendable>(
        limits: Limits, timeout: Duration, _ work: @escaping @Sendable (Gate) async throws -> T
    ) async throws -> T {
        let gate = Gate()
        let task = Task { () async throws -> T in
            do {
                return try await work(gate)
            } catch {
                throw unwrapped(error)
            }
        }
        let answer = Answer<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.wait(continuation)
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    let committing = gate.timeOut()
                    let failure =
                        committing
                        ? StoreError(.outcomeUnknown, "the database did not confirm a COMMIT within \(timeout)")
                        : StoreError(.unavailable, "the database did not answer within \(timeout)")
                    if answer.resume(.failure(failure)) {
                        limits.record(reachable: false)
                        task.cancel()
                    }
                }
                Task {
                    let result = await task.result
                    timer.cancel()
                    if case .failure(let error as StoreError) = result, error.code == .unavailable {
                        limits.record(reachable: false)
                    } else {
                        limits.record(reachable: true)
                    }
                    answer.resume(result)
                }
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// The store's own errors and refused statements as they are; anything else (a failed connection, a
    /// cancelled lease) as `unavailable`: the transaction was rolled back, or its COMMIT was never sent.
    static func unwrapped(_ error: any Error) -> any Error {
        switch error {
        case is StoreError, is SQLConstraintViolation: return error
        case let error as PSQLError where error.code == .server: return error
        default: return StoreError(.unavailable, "the database cannot be reached: \(error)")
        }
    }

    /// One answer to one waiting caller, whichever comes first.
    private final class Answer<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var early: Result<T, any Error>?
            var answered = false
        }
        private let state = NIOLockedValueBox(State())

        func wait(_ continuation: CheckedContinuation<T, any Error>) {
            let early: Result<T, any Error>? = state.withLockedValue { state in
                if let early = state.early { return early }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        /// Answers the caller with `result` unless it was answered already; whether this answered it.
        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            let (continuation, answered): (CheckedContinuation<T, any Error>?, Bool) = state.withLockedValue {
                state in
                guard !state.answered else { return (nil, false) }
                state.answered = true
                if let continuation = state.continuation {
                    state.continuation = nil
                    return (continuation, true)
                }
                state.early = result
                return (nil, true)
            }
            continuation?.resume(with: result)
            return answered
        }
    }
}
