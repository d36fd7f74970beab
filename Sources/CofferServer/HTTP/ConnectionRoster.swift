/// Who holds the KMS endpoint's connection places, and whom a newcomer displaces when every place is
/// taken (issue 13). A pure state machine; ``RequestDeadlineHandler`` drives it.
///
/// A connection is *waiting* while it owes the server something: between requests, or while its request
/// head or body is still arriving. It is *busy* from the end of its request until the end of its response,
/// and a busy connection is never displaced (its answer would be lost, and a client could not tell whether
/// a CreateKey or a ScheduleKeyDeletion happened). When a newcomer finds all ``maximumConnections`` places
/// taken, it displaces a waiting connection of the peer address that has the most waiting connections —
/// the one that has waited longest (of all tied addresses) — so connections held open slowly cannot lock
/// other clients out, and one address's slow connections displace their own before anybody else's. When
/// every place is busy the newcomer is refused (closed at once).
///
/// Known limit: the per-address rule sees peer addresses only. Behind a load balancer or a NAT every
/// client shares one address, and an attacker with many addresses (an IPv6 /64) looks like many
/// clients; then the rule is simply "the longest-waiting connection goes".
public struct ConnectionRoster: Sendable {
    /// What accepting a connection does.
    public enum Admission: Equatable, Sendable {
        /// Admitted as `id`; `displacing`, when set, is the id of the waiting connection to close.
        case admitted(id: UInt64, displacing: UInt64?)
        /// Every place is held by a busy connection: close the newcomer.
        case refused
    }

    private enum Activity {
        /// Owes the server its next request, or the rest of one, since a monotonic tick.
        case waiting(since: UInt64)
        /// Its request is being answered.
        case busy
    }

    private struct Entry {
        let address: String
        var activity: Activity

        var waitingSince: UInt64? {
            if case .waiting(let since) = activity { since } else { nil }
        }
    }

    /// Connections served at once.
    public let maximumConnections: Int
    private var nextID: UInt64 = 1
    private var entries: [UInt64: Entry] = [:]
    /// Waiting connections per peer address.
    private var waitingByAddress: [String: Int] = [:]

    /// A roster of `maximumConnections` places (at least one).
    public init(maximumConnections: Int) {
        self.maximumConnections = max(1, maximumConnections)
    }

    /// A connection from `address` arrives at tick `now`; it starts waiting for its first request.
    public mutating func admit(address: String, now: UInt64) -> Admission {
        var displaced: UInt64?
        if entries.count >= maximumConnections {
            guard let victim = longestWaitingOfBusiestAddress() else { return .refused }
            remove(victim)
            displaced = victim
        }
        let id = nextID
        nextID += 1
        entries[id] = Entry(address: address, activity: .waiting(since: now))
        waitingByAddress[address, default: 0] += 1
        return .admitted(id: id, displacing: displaced)
    }

    /// `id`'s request is complete: it is busy until its response ends. False when `id` is no longer
    /// held (displaced by another event loop a moment ago): the request must not be handed on.
    public mutating func busy(_ id: UInt64) -> Bool {
        guard let entry = entries[id] else { return false }
        guard case .waiting = entry.activity else { return true }
        entries[id]?.activity = .busy
        decrementWaiting(entry.address)
        return true
    }

    /// `id`'s response ended (or its writes stalled) at tick `now`: it waits for its next request.
    public mutating func waiting(_ id: UInt64, now: UInt64) {
        guard let entry = entries[id], case .busy = entry.activity else { return }
        entries[id]?.activity = .waiting(since: now)
        waitingByAddress[entry.address, default: 0] += 1
    }

    /// `id` closed (or was displaced).
    public mutating func remove(_ id: UInt64) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        if entry.waitingSince != nil { decrementWaiting(entry.address) }
    }

    /// Connections held, and of them waiting.
    public var counts: (all: Int, waiting: Int) { (entries.count, waitingByAddress.values.reduce(0, +)) }

    private mutating func decrementWaiting(_ address: String) {
        let left = (waitingByAddress[address] ?? 1) - 1
        waitingByAddress[address] = left > 0 ? left : nil
    }

    /// The longest-waiting connection of the address with the most waiting connections (of several tied
    /// addresses, the connection that has waited longest among them).
    private func longestWaitingOfBusiestAddress() -> UInt64? {
        guard let most = waitingByAddress.values.max() else { return nil }
        var oldest: (id: UInt64, since: UInt64)?
        for (id, entry) in entries where waitingByAddress[entry.address] == most {
            guard let since = entry.waitingSince else { continue }
            if oldest.map({ since < $0.since || (since == $0.since && id < $0.id) }) ?? true { oldest = (id, since) }
        }
        return oldest?.id
    }
}
