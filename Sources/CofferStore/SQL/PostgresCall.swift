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

    /// Decides between a late COMMIT and the timeout.
    final class Gate: Sendable {
        private enum State {
            /// The transaction runs and may commit.
            case running
            /// Its COMMIT was sent while the caller waited.
            case committing
            /// The caller was told `unavailable` before any COMMIT: none may be sent.
            case timedOut
            /// The caller was told `outcomeUnknown` while a COMMIT was on the wire.
            case timedOutCommitting
        }
        private let state = NIOLockedValueBox(State.running)

        /// Whether the transaction may commit: false when its caller was already answered.
        func beginCommit() -> Bool {
            state.withLockedValue { state in
                guard case .running = state else { return false }
                state = .committing
                return true
            }
        }

        /// The server refused the COMMIT and rolled the transaction back (a serialization failure found at
        /// commit): whether it may run again, false when its caller was answered meanwhile.
        func commitRefused() -> Bool {
            state.withLockedValue { state in
                guard case .committing = state else { return false }
                state = .running
                return true
            }
        }

        /// Marks the call timed out; whether a COMMIT had already been sent (outcome unknown).
        func timeOut() -> Bool {
            state.withLockedValue { state in
                switch state {
                case .committing, .timedOutCommitting:
                    state = .timedOutCommitting
                    return true
                case .running, .timedOut:
                    state = .timedOut
                    return false
                }
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
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let answer = Answer(continuation)
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    let committing = gate.timeOut()
                    let failure =
                        committing
                        ? StoreError(.outcomeUnknown, "the database did not confirm a COMMIT within \(timeout)")
                        : StoreError(.unavailable, "the database did not answer within \(timeout)")
                    // Recorded before the caller resumes, so that its next call sees the outage.
                    if answer.resume(.failure(failure), beforeResuming: { limits.record(reachable: false) }) {
                        task.cancel()
                    }
                }
                Task {
                    let result = await task.result
                    timer.cancel()
                    let outage =
                        if case .failure(let error as StoreError) = result { error.code == .unavailable } else { false }
                    // A late failure is the work giving up after its caller's timeout (which was recorded
                    // then), not news of the database: only a failure that answers counts. A late success is.
                    let answered = answer.resume(result, beforeResuming: { limits.record(reachable: !outage) })
                    if !answered && !outage { limits.record(reachable: true) }
                }
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// The store's own errors as they are; a statement the server refused as `database`; anything else (a
    /// failed connection, a session the server ended, a cancelled lease) as `unavailable`: the transaction
    /// was rolled back, or its COMMIT was never sent.
    static func unwrapped(_ error: any Error) -> any Error {
        switch error {
        case is StoreError, is SQLConstraintViolation: return error
        case let error as PSQLError where error.code == .server && !isBrokenConnection(error):
            return StoreError(.database, "the database refused a statement: \(diagnostic(error))")
        default: return StoreError(.unavailable, "the database cannot be reached: \(diagnostic(error))")
        }
    }

    /// What may be logged of a driver error. postgres-nio describes its errors as "Generic description…",
    /// and their reflection carries the statement's bound values (key tokens, audit records): this names
    /// the error's code, the server's severity and SQLSTATE, the server's message unless it may quote a
    /// value (data exceptions, class 22, and integrity violations, class 23), never its DETAIL, and what
    /// lies under a broken connection.
    static func diagnostic(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        var parts = ["\(error.code)"]
        if let info = error.serverInfo {
            if let severity = info[.severity] ?? info[.localizedSeverity] { parts.append(severity) }
            let state = info[.sqlState]
            if let state { parts.append(state) }
            if let message = info[.message], !(state.map { $0.hasPrefix("22") || $0.hasPrefix("23") } ?? true) {
                parts.append(message)
            }
        }
        if let underlying = error.underlying { parts.append(diagnostic(underlying)) }
        return parts.joined(separator: ": ")
    }

    /// `idle_in_transaction_session_timeout`: the server ended a session that sat idle inside a
    /// transaction, and rolled the transaction back.
    static let idleInTransactionEnded = "25P03"

    /// A server error and whether it ended the session (severity FATAL or PANIC) or only the statement
    /// (ERROR): the error itself, or the one under a closed connection (postgres-nio fails the statements
    /// after the server's FATAL so).
    private static func serverError(_ error: any Error) -> (state: String, endedSession: Bool)? {
        guard let error = error as? PSQLError else { return nil }
        guard error.code == .server, let info = error.serverInfo else {
            return error.underlying.flatMap(serverError).flatMap { $0.endedSession ? $0 : nil }
        }
        let severity = info[.severity] ?? info[.localizedSeverity]
        return (info[.sqlState] ?? "", severity == "FATAL" || severity == "PANIC")
    }

    /// The SQLSTATE of a statement the server refused (severity ERROR), not of a session it ended.
    static func statementState(_ error: any Error) -> String? {
        serverError(error).flatMap { $0.endedSession ? nil : $0.state }
    }

    /// The SQLSTATE with which the server ended the session (a FATAL or PANIC), when it said so.
    static func sessionEndState(_ error: any Error) -> String? {
        serverError(error).flatMap { $0.endedSession ? $0.state : nil }
    }

    /// A statement was not sent because its connection had closed (the server ended the session, or the
    /// socket broke, while the connection sat between statements). postgres-nio 1.33 never answers a query
    /// written to a closed connection (the write is dropped with no promise), so ``PostgresBackend`` checks
    /// before each statement rather than wait out the call's timeout. The check is read off the connection's
    /// event loop: a connection that closes between it and the write still goes unanswered until the
    /// timeout (which, for a COMMIT, answers `outcomeUnknown`).
    struct ConnectionClosed: Error, CustomStringConvertible {
        var description: String { "the connection had closed before the statement was sent" }
    }

    /// Whether `error` says that the connection broke (closed, reset, or its session ended by the server)
    /// rather than that a statement failed: whatever ran on it and was not committed is gone.
    static func isBrokenConnection(_ error: any Error) -> Bool {
        if error is ConnectionClosed { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        default: return sessionEndState(error) != nil
        }
    }

    /// Whether a call whose attempt failed with `error` runs once more on another connection: its connection
    /// broke, it has not done so already (`reconnected`), and its caller still waits.
    static func reconnects(after error: any Error, reconnected: Bool) -> Bool {
        !reconnected && !Task.isCancelled && isBrokenConnection(error)
    }

    /// Whether a COMMIT that failed with `error` certainly did not commit: the server refused it (an ERROR,
    /// such as a serialization failure found at commit), the connection had closed before the COMMIT was
    /// sent, or the server had ended the session for idling in the transaction before the COMMIT reached
    /// it. Anything else (a FATAL or PANIC while committing, a connection that broke) leaves the outcome
    /// unknown.
    static func rolledBackAtCommit(_ error: any Error) -> Bool {
        error is ConnectionClosed || statementState(error) != nil || sessionEndState(error) == idleInTransactionEnded
    }

    /// One answer to one waiting caller, whichever comes first.
    private final class Answer<T: Sendable>: Sendable {
        private let waiting: NIOLockedValueBox<CheckedContinuation<T, any Error>?>

        init(_ continuation: CheckedContinuation<T, any Error>) {
            waiting = NIOLockedValueBox(continuation)
        }

        /// Answers the caller with `result` unless it was answered already, running `beforeResuming` first
        /// when this answers it; whether this answered it.
        func resume(_ result: Result<T, any Error>, beforeResuming: () -> Void) -> Bool {
            let continuation = waiting.withLockedValue { waiting in
                defer { waiting = nil }
                return waiting
            }
            guard let continuation else { return false }
            beforeResuming()
            continuation.resume(with: result)
            return true
        }
    }
}
