import NIOCore

/// Which socket each event loop's session requests use (``HSMConnection``'s lanes), as a pure state machine:
/// the connection tells it the asking loop, the time and what became of the sockets it opened, and it answers
/// what to use and what to open or close. No I/O, no clock, no lock inside.
struct LaneTable<Lane: AnyObject & Sendable>: Sendable {
    /// What a loop has.
    enum Slot {
        /// A lane, and when a request last went on it.
        case open(Lane, lastUsed: NIODeadline)
        /// A lane being opened; its requests use the primary meanwhile.
        case opening
        /// No lane until `until` (one could not open, or one was found closed).
        case failed(until: NIODeadline)
    }

    /// Where a session request goes.
    enum Choice {
        /// On this loop's lane.
        case lane(Lane)
        /// On the primary; `open`: open a lane for the loop now; `close`: a lane left idle too long, to close.
        case primary(open: Bool, close: Lane?)
    }

    /// Slots by loop; nil when the connection has no lanes or is closed.
    private var slots: [ObjectIdentifier: Slot]?
    /// How long a loop goes without a lane after one could not open or was found closed.
    let retry: TimeAmount
    /// A lane unused this long is closed and opened anew.
    let idleLimit: TimeAmount

    /// A table; with `enabled` false every request uses the primary.
    init(enabled: Bool, retry: TimeAmount, idleLimit: TimeAmount) {
        slots = enabled ? [:] : nil
        self.retry = retry
        self.idleLimit = idleLimit
    }

    /// The socket for a session request made on `loop` at `now`; `isActive` tells whether a lane is open.
    mutating func choose(for loop: ObjectIdentifier, now: NIODeadline, isActive: (Lane) -> Bool) -> Choice {
        guard slots != nil else { return .primary(open: false, close: nil) }
        switch slots?[loop] {
        case .open(let lane, let lastUsed):
            guard isActive(lane) else {
                slots?[loop] = .failed(until: now + retry)
                return .primary(open: false, close: nil)
            }
            guard now - lastUsed < idleLimit else {
                slots?[loop] = .opening
                return .primary(open: true, close: lane)
            }
            slots?[loop] = .open(lane, lastUsed: now)
            return .lane(lane)
        case .opening:
            return .primary(open: false, close: nil)
        case .failed(let until) where until > now:
            return .primary(open: false, close: nil)
        case .failed, nil:
            slots?[loop] = .opening
            return .primary(open: true, close: nil)
        }
    }

    /// A lane opened for `loop`; false when the table is closed (the caller closes the lane).
    mutating func opened(_ lane: Lane, for loop: ObjectIdentifier, now: NIODeadline) -> Bool {
        guard slots != nil else { return false }
        slots?[loop] = .open(lane, lastUsed: now)
        return true
    }

    /// A lane for `loop` could not open.
    mutating func openFailed(for loop: ObjectIdentifier, now: NIODeadline) {
        guard slots != nil else { return }
        slots?[loop] = .failed(until: now + retry)
    }

    /// `lane`, the loop's, closed under a request: set aside until `retry` has passed (a newer lane stays).
    mutating func closedUnderRequest(_ lane: Lane, for loop: ObjectIdentifier, now: NIODeadline) {
        guard case .open(let current, _) = slots?[loop], current === lane else { return }
        slots?[loop] = .failed(until: now + retry)
    }

    /// Closes the table: the open lanes, to close; nothing opens after this.
    mutating func close() -> [Lane] {
        defer { slots = nil }
        return (slots ?? [:]).values.compactMap { if case .open(let lane, _) = $0 { lane } else { nil } }
    }

    /// The lanes open now.
    func open(isActive: (Lane) -> Bool) -> Int {
        (slots ?? [:]).values.filter { if case .open(let lane, _) = $0 { isActive(lane) } else { false } }.count
    }
}
