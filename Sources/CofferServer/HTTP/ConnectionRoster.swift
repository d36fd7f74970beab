/// Who holds the KMS endpoint's connection places, and whom a newcomer displaces when every place is
/// taken (issue 13). A pure state machine; ``RequestDeadlineHandler`` drives it.
///
/// A connection is *waiting* while it owes the server something: between requests, or while its request
/// head or body is still arriving. It is *busy* from the end of its request until the end of its response,
/// and a busy connection is never displaced (its answer would be lost, and a client could not tell whether
/// a CreateKey or a ScheduleKeyDeletion happened). When a newcomer finds all ``maximumConnections`` places
/// taken, it displaces a waiting connection of the peer address that has the most waiting connections —
/// the one that has waited longest — so connections held open slowly cannot lock other clients out, and
/// one address's slow connections displace their own before anybody else's. When every place is busy the
/// newcomer is refused (closed at once).
public struct ConnectionRoster: Sendable {
    /// What accepting a connection does.
    public enum Admission: Equatable, Sendable {
        /// Admitted as `id`; `displacing`, when set, is the id of the waiting connection to close.
        case admitted(id: UInt64, displacing: UInt64?)
        /// Every place is held by a busy connection: close the newcomer.
        case refused
    }

    private struct Entry {
        let address: String
        /// Since when it has been waiting (a monotonic tick); nil while busy.
        var waitingSince: UInt64?
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
        entries[id] = Entry(address: address, waitingSince: now)
        waitingByAddress[address, default: 0] += 1
        return .admitted(id: id, displacing: displaced)
    }

    /// `id`'s request is complete: it is busy until its response ends.
    public mutating func busy(_ id: UInt64) {
        guard let entry = entries[id], entry.waitingSince != nil else { return }
        entries[id]?.waitingSince = nil
        decrementWaiting(entry.address)
    }

    /// `id`'s response ended at tick `now`: it waits for its next request.
    public mutating func waiting(_ id: UInt64, now: UInt64) {
        guard let entry = entries[id], entry.waitingSince == nil else { return }
        entries[id]?.waitingSince = now
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

    /// The longest-waiting connection of the address with the most waiting connections (ties: the
    /// lexicographically first address, so the choice does not depend on dictionary order).
    private func longestWaitingOfBusiestAddress() -> UInt64? {
        let busiest = waitingByAddress.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        guard let address = busiest?.key else { return nil }
        var oldest: (id: UInt64, since: UInt64)?
        for (id, entry) in entries where entry.address == address {
            guard let since = entry.waitingSince else { continue }
            if oldest.map({ since < $0.since || (since == $0.since && id < $0.id) }) ?? true { oldest = (id, since) }
        }
        return oldest?.id
    }
}
