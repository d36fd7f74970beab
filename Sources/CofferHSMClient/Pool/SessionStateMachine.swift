/// The pool's one session (shared by all its HSMs, PROTOCOL §7) as a state machine: idle, negotiating,
/// established, renewing. Pure like ``MemberStateMachine``: the clock is passed in, and each event returns
/// what ``HSMPool`` must do (use a session with a fresh request id, start a handshake, wait for the one
/// under way). Requests that need a session while none is valid share one handshake; a renewal runs in
/// the background while requests keep using the session it replaces, and becomes the handshake they
/// wait for if that session expires first.
package struct SessionStateMachine<S: PoolSession>: Sendable {
    /// Seconds before a failed renewal is tried again (requests keep the current session meanwhile).
    package static var renewalRetryDelay: Int64 { 1 }

    private enum State: Sendable {
        /// No session and no handshake.
        case idle
        /// A handshake is under way and no session is usable.
        case negotiating
        /// A session in use; `retryRenewalAt` holds back a renewal after one failed.
        case established(S, retryRenewalAt: Int64)
        /// A session in use while its successor is negotiated in the background.
        case renewing(S)
        /// The pool closed.
        case closed
    }

    /// What the pool does when a request needs the session.
    package enum SessionAction: Sendable {
        /// Seal the request under `session` with `requestID`; when `startRenewal`, also start a background
        /// handshake and report it like any other.
        case use(S, requestID: Int64, startRenewal: Bool)
        /// Start a handshake, report ``negotiated(_:)`` or ``negotiationFailed(now:)``, then ask again.
        case negotiate
        /// Wait for the handshake under way, then ask again.
        case wait
        /// The pool is closed.
        case closed
    }

    private var state: State = .idle
    private var requests: Int64 = 0
    private var nextRequestID: Int64 = 1
    private let requestLimit: Int64

    /// A machine with no session; a session is renewed after `requestLimit` requests at the latest.
    package init(requestLimit: Int64 = Session.requestLimit) {
        self.requestLimit = requestLimit
    }

    /// The session in use, if any.
    package var current: S? {
        switch state {
        case .established(let session, _), .renewing(let session): return session
        case .idle, .negotiating, .closed: return nil
        }
    }

    /// A request needs the session at `now`.
    package mutating func sessionWanted(now: Int64) -> SessionAction {
        switch state {
        case .established(let session, let retryRenewalAt) where now < session.expiresAt:
            let due = now >= session.renewsAt || requests >= requestLimit
            let renew = due && now >= retryRenewalAt
            if renew { state = .renewing(session) }
            return .use(session, requestID: allocateRequestID(), startRenewal: renew)
        case .renewing(let session) where now < session.expiresAt:
            return .use(session, requestID: allocateRequestID(), startRenewal: false)
        case .established, .idle:
            // None, or expired: a handshake that every waiting request shares.
            state = .negotiating
            return .negotiate
        case .renewing:
            // Expired while its successor is negotiated: that handshake is the one to wait for.
            state = .negotiating
            return .wait
        case .negotiating:
            return .wait
        case .closed:
            return .closed
        }
    }

    /// A request id under the session in use without a session check (`HSMPool.onlyOn`). Ids are never
    /// reused while the pool lives, whichever HSM serves them: each HSM refuses an id it has served (§7).
    package mutating func allocateRequestID() -> Int64 {
        let id = nextRequestID
        nextRequestID = nextRequestID == Int64.max ? 1 : nextRequestID + 1
        requests += 1
        return id
    }

    /// The handshake the machine asked for established `session`. Whether it was adopted (false when the
    /// pool closed meanwhile).
    package mutating func negotiated(_ session: S) -> Bool {
        switch state {
        case .negotiating, .renewing, .established, .idle:
            state = .established(session, retryRenewalAt: .min)
            requests = 0
            return true
        case .closed:
            return false
        }
    }

    /// The handshake the machine asked for failed at `now`. A failed renewal leaves the session in use
    /// and is tried again after ``renewalRetryDelay``; a failed negotiation leaves none, and the next
    /// request starts another.
    package mutating func negotiationFailed(now: Int64) {
        switch state {
        case .renewing(let session):
            state = .established(session, retryRenewalAt: now + Self.renewalRetryDelay)
        case .negotiating:
            state = .idle
        case .established, .idle, .closed:
            break
        }
    }

    /// An HSM refused the session named by `digest` (expired, its domain key rotated out, the host
    /// re-keyed): it is dropped if still in use, so the next request negotiates (or waits for the
    /// renewal under way).
    package mutating func rejected(digest: [UInt8]) {
        switch state {
        case .established(let session, _) where session.digest == digest:
            state = .idle
        case .renewing(let session) where session.digest == digest:
            state = .negotiating
        case .established, .renewing, .idle, .negotiating, .closed:
            break
        }
    }

    /// The pool closes: no session is used or negotiated again.
    package mutating func close() {
        state = .closed
    }
}
