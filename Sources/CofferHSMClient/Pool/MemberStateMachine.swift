/// One HSM of a service host's pool, as a state machine in the manner of swift-nio-ssh: it holds no
/// socket, reads no clock and does no I/O. Each event (a connection wanted, a connect that finished, a
/// request that failed) moves it and returns what ``HSMPool`` must do: open a connection, wait for the one
/// being opened, use one, or close one. Generic over the connection so tests drive it without sockets.
///
/// One connect at a time per member: requests and health checks that arrive together while a connect is
/// under way wait for it instead of each opening a socket. A connection that fails is closed (an abandoned
/// socket would hold one of the HSM's places) and the member backs off, doubling from
/// ``initialBackoff`` to ``maximumBackoff`` seconds while failures repeat; a health check tries it
/// regardless, so a member that returns is found by the next upkeep round at the latest.
package struct MemberStateMachine<Connection: Sendable>: Sendable {
    /// Seconds a member is left alone after its first failure.
    package static var initialBackoff: Int64 { 1 }
    /// The longest a failing member is left alone.
    package static var maximumBackoff: Int64 { 8 }

    private enum State: Sendable {
        /// No connection and none being opened: the next use opens one.
        case disconnected
        /// A connect is under way; uses wait for it.
        case connecting
        /// An open connection, and the generation that names it in failure reports.
        case connected(Connection, generation: Int)
        /// The member failed; not picked for requests before `until`.
        case backoff(until: Int64)
        /// The pool closed: nothing is opened again.
        case closed
    }

    /// What the pool does when it wants the member's connection.
    package enum ConnectionAction: Sendable {
        /// Use this connection; report a failure of it with `generation`.
        case use(Connection, generation: Int)
        /// Open a connection, then report ``connectSucceeded(_:)`` or ``connectFailed(now:)``.
        case connect
        /// Wait for the connect under way.
        case wait
        /// The member is backing off until then.
        case backingOff(until: Int64)
        /// The pool is closed.
        case closed
    }

    /// What the pool does with a connection that just opened.
    package enum ConnectedAction: Sendable {
        /// Use it (and give it to those waiting).
        case use(Connection, generation: Int)
        /// Close it: the pool closed while it was being opened.
        case close(Connection)
    }

    private var state: State = .disconnected
    private var generation = 0
    private var consecutiveFailures = 0
    /// Requests sent to the member and not answered yet.
    package private(set) var outstanding = 0

    /// A member with no connection.
    package init() {}

    /// The connection is wanted at `now`. A health check passes `ignoringBackoff` to try a failed member.
    package mutating func connectionWanted(now: Int64, ignoringBackoff: Bool = false) -> ConnectionAction {
        switch state {
        case .connected(let connection, let generation):
            return .use(connection, generation: generation)
        case .connecting:
            return .wait
        case .disconnected:
            state = .connecting
            return .connect
        case .backoff(let until):
            guard ignoringBackoff || now >= until else { return .backingOff(until: until) }
            state = .connecting
            return .connect
        case .closed:
            return .closed
        }
    }

    /// The connect the machine asked for succeeded.
    package mutating func connectSucceeded(_ connection: Connection) -> ConnectedAction {
        switch state {
        case .connecting:
            generation += 1
            state = .connected(connection, generation: generation)
            return .use(connection, generation: generation)
        case .closed:
            return .close(connection)
        case .disconnected, .connected, .backoff:
            // Only `.connecting` starts a connect and only its end leaves it; kept safe all the same.
            return .close(connection)
        }
    }

    /// The connect the machine asked for failed at `now`.
    package mutating func connectFailed(now: Int64) {
        switch state {
        case .connecting: backOff(now: now)
        case .closed, .disconnected, .connected, .backoff: break
        }
    }

    /// The connection of `generation` failed at `now` (it closed, a request timed out, the HSM answered as
    /// no member of the domain). The connection to close, when it is still the member's: a failure
    /// reported late, about a connection already replaced, changes nothing.
    package mutating func failed(generation failedGeneration: Int, now: Int64) -> Connection? {
        switch state {
        case .connected(let connection, let generation) where generation == failedGeneration:
            backOff(now: now)
            return connection
        case .connected, .connecting, .disconnected, .backoff, .closed:
            return nil
        }
    }

    /// The member failed in a way that concerns whatever connection it has (it refused as not ready, a
    /// handshake or a command over it broke): it backs off; the connection to close, if one is open.
    package mutating func memberFailed(now: Int64) -> Connection? {
        switch state {
        case .connected(let connection, _):
            backOff(now: now)
            return connection
        case .disconnected:
            backOff(now: now)
            return nil
        case .connecting, .backoff, .closed:
            return nil
        }
    }

    /// The connection of `generation` was found closed before a request was sent on it (the HSM closed an
    /// idle connection, or restarted): the member is not failed, the next use opens another. The
    /// connection to close, when it is still the member's.
    package mutating func dropped(generation droppedGeneration: Int) -> Connection? {
        switch state {
        case .connected(let connection, let generation) where generation == droppedGeneration:
            state = .disconnected
            return connection
        case .connected, .connecting, .disconnected, .backoff, .closed:
            return nil
        }
    }

    /// The member answered as it should (a request served, a health check passed): failures are forgotten.
    package mutating func succeeded() {
        consecutiveFailures = 0
    }

    /// A request is sent to the member.
    package mutating func requestStarted() { outstanding += 1 }

    /// A request sent to the member ended, answered or not. Every `requestStarted` has one (the pool's
    /// only caller pairs them on every path); the floor at 0 only keeps a broken pairing from steering
    /// every request to this member in a release build.
    package mutating func requestEnded() {
        assert(outstanding > 0, "requestEnded without requestStarted")
        outstanding = max(0, outstanding - 1)
    }

    /// Whether requests may be sent to the member at `now` (it is not backing off, the pool is open).
    package func isUsable(now: Int64) -> Bool {
        switch state {
        case .disconnected, .connecting, .connected: return true
        case .backoff(let until): return now >= until
        case .closed: return false
        }
    }

    /// Whether the member is backing off after a failure (health reporting).
    package var isFailed: Bool {
        switch state {
        case .backoff: return true
        case .disconnected, .connecting, .connected, .closed: return false
        }
    }

    /// The pool closes: the connection to close, if one is open. Nothing is opened again; a connect under
    /// way is closed when it succeeds.
    package mutating func close() -> Connection? {
        defer { state = .closed }
        switch state {
        case .connected(let connection, _): return connection
        case .disconnected, .connecting, .backoff, .closed: return nil
        }
    }

    private mutating func backOff(now: Int64) {
        consecutiveFailures += 1
        let doublings = Int64(min(consecutiveFailures - 1, 16))
        let delay = min(Self.maximumBackoff, Self.initialBackoff << doublings)
        state = .backoff(until: now + delay)
    }
}
