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

    private enum Activity: Equatable {
        /// Owes the server its next request, or the rest of one, since a monotonic tick (its `turn`th wait).
        case waiting(since: UInt64, turn: UInt64)
        /// Its request is being answered.
        case busy
    }

    private struct Entry {
        let address: String
        var activity: Activity
    }

    /// One address's waiting connections in the order they began to wait. Items go stale when their
    /// connection becomes busy or leaves (checked against `entries` when read, and compacted away), so every
    /// change is O(1) amortized; a displacement passes over the addresses tied for the most waiting connections
    /// only (one, against a flood from one address; every address, when each holds one connection).
    private struct Waiters {
        /// Waiting connections of the address.
        var count = 0
        var items: [Wait] = []
        var head = 0
    }

    /// One wait of a connection: from tick `since`, the `turn`th wait to begin (ties of `since` go by turn).
    private struct Wait {
        let id: UInt64
        let since: UInt64
        let turn: UInt64
    }

    /// Connections served at once.
    public let maximumConnections: Int
    private var nextID: UInt64 = 1
    private var nextTurn: UInt64 = 0
    private var entries: [UInt64: Entry] = [:]
    /// Waiting connections per peer address (addresses with none are absent).
    private var waiters: [String: Waiters] = [:]
    /// The addresses by how many connections they have waiting, and the largest such count.
    private var addressesByCount: [Int: Set<String>] = [:]
    private var mostWaiting = 0

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
        entries[id] = Entry(address: address, activity: .waiting(since: now, turn: nextTurn))
        startWaiting(id, address: address, since: now)
        return .admitted(id: id, displacing: displaced)
    }

    /// `id`'s request is complete: it is busy until its response ends. False when `id` is no longer
    /// held (displaced by another event loop a moment ago): the request must not be handed on.
    public mutating func busy(_ id: UInt64) -> Bool {
        guard let entry = entries[id] else { return false }
        guard case .waiting = entry.activity else { return true }
        entries[id]?.activity = .busy
        stopWaiting(entry.address)
        return true
    }

    /// `id`'s response ended (or its writes stalled) at tick `now`: it waits for its next request.
    public mutating func waiting(_ id: UInt64, now: UInt64) {
        guard let entry = entries[id], case .busy = entry.activity else { return }
        entries[id]?.activity = .waiting(since: now, turn: nextTurn)
        startWaiting(id, address: entry.address, since: now)
    }

    /// `id` closed (or was displaced).
    public mutating func remove(_ id: UInt64) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        if case .waiting = entry.activity { stopWaiting(entry.address) }
    }

    /// Connections held, and of them waiting.
    public var counts: (all: Int, waiting: Int) { (entries.count, waiters.values.reduce(0) { $0 + $1.count }) }

    private mutating func startWaiting(_ id: UInt64, address: String, since: UInt64) {
        var queue = waiters.removeValue(forKey: address) ?? Waiters()
        move(address, from: queue.count, to: queue.count + 1)
        queue.count += 1
        queue.items.append(Wait(id: id, since: since, turn: nextTurn))
        nextTurn += 1
        if queue.items.count - queue.head > 2 * queue.count + 32 { compact(&queue) }
        waiters[address] = queue
    }

    private mutating func stopWaiting(_ address: String) {
        guard var queue = waiters.removeValue(forKey: address) else { return }
        move(address, from: queue.count, to: queue.count - 1)
        queue.count -= 1
        // An address with nobody waiting keeps no queue (its items are all stale).
        if queue.count > 0 { waiters[address] = queue }
    }

    /// Moves `address` between the count buckets; the largest count changes by one at most.
    private mutating func move(_ address: String, from old: Int, to new: Int) {
        if old > 0 {
            addressesByCount[old]?.remove(address)
            if addressesByCount[old]?.isEmpty == true { addressesByCount[old] = nil }
        }
        if new > 0 { addressesByCount[new, default: []].insert(address) }
        if new > mostWaiting { mostWaiting = new }
        if old == mostWaiting, addressesByCount[old] == nil { mostWaiting = max(0, old - 1) }
    }

    /// Whether a queue item is still its connection's current wait.
    private func isCurrent(_ item: Wait) -> Bool {
        entries[item.id]?.activity == .waiting(since: item.since, turn: item.turn)
    }

    /// Drops stale items.
    private func compact(_ queue: inout Waiters) {
        queue.items = queue.items[queue.head...].filter { isCurrent($0) }
        queue.head = 0
    }

    /// The first current item of `address`'s queue, dropping stale ones before it.
    private mutating func oldestWaiting(of address: String) -> Wait? {
        guard var queue = waiters.removeValue(forKey: address) else { return nil }
        defer { waiters[address] = queue }
        while queue.head < queue.items.count, !isCurrent(queue.items[queue.head]) { queue.head += 1 }
        if queue.head > 32, queue.head * 2 > queue.items.count {
            queue.items.removeFirst(queue.head)
            queue.head = 0
        }
        return queue.head < queue.items.count ? queue.items[queue.head] : nil
    }

    /// The longest-waiting connection of the address with the most waiting connections (of several tied
    /// addresses, the connection that has waited longest among them; of equal ticks, the one that began
    /// to wait first).
    private mutating func longestWaitingOfBusiestAddress() -> UInt64? {
        guard mostWaiting > 0, let tied = addressesByCount[mostWaiting] else { return nil }
        var oldest: Wait?
        for address in tied {
            guard let item = oldestWaiting(of: address) else { continue }
            if oldest.map({ (item.since, item.turn) < ($0.since, $0.turn) }) ?? true { oldest = item }
        }
        return oldest?.id
    }
}
