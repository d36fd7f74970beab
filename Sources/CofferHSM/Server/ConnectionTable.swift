import NIOCore

/// Who is connected to the HSM, and who has shown it is a party of the domain (PROTOCOL §10: the HSM has
/// one socket, reachable by whoever reaches the machine). A connection is *authenticated* once it has
/// carried something only a host of the domain can send: a `SignedInit` the HSM accepted, or a session
/// request that opened under its session key. Until then it
/// may stay at most a short grace, at most ``HSMServer/maximumUnauthenticated`` such connections exist
/// at once (a new one evicts the oldest of the peer address that holds the most, so one address's
/// connections displace their own before a host's), and none of them can take a place that an authenticated one
/// holds: idle connections from anyone cannot lock hosts out. Authenticated connections in turn keep
/// `maximumUnauthenticated` places free for newcomers (the longest-authenticated goes first).
struct ConnectionTable: Sendable {
    /// What accepting a connection does.
    enum Admission: Equatable {
        /// Admitted as `id`; `evicting`, when set, is the id of the unauthenticated connection to close.
        case admitted(id: UInt64, evicting: UInt64?)
        /// Every place is held by an authenticated connection.
        case refused
    }

    private struct Entry {
        let address: String
        var authenticated = false
    }

    let maximumConnections: Int
    let maximumUnauthenticated: Int
    private var nextID: UInt64 = 1
    private var entries: [UInt64: Entry] = [:]
    /// Unauthenticated connection ids, oldest first.
    private var waiting: [UInt64] = []
    /// Authenticated connection ids, in the order they authenticated.
    private var authenticatedOrder: [UInt64] = []

    init(maximumConnections: Int, maximumUnauthenticated: Int) {
        self.maximumConnections = maximumConnections
        self.maximumUnauthenticated = maximumUnauthenticated
    }

    /// A new connection arrives from `address`.
    mutating func admit(address: String = "") -> Admission {
        var evicting: UInt64?
        if entries.count >= maximumConnections || waiting.count >= maximumUnauthenticated {
            guard let victim = oldestWaitingOfBusiestAddress() else { return .refused }
            remove(victim)
            evicting = victim
        }
        let id = nextID
        nextID += 1
        entries[id] = Entry(address: address)
        waiting.append(id)
        return .admitted(id: id, evicting: evicting)
    }

    /// The connection proved it is a party of the domain. Authenticated connections keep at most
    /// `maximumConnections − maximumUnauthenticated` places, so newcomers always find one: past that, the
    /// connection authenticated longest ago is returned, to be closed (its host reconnects).
    mutating func authenticate(_ id: UInt64) -> UInt64? {
        guard entries[id]?.authenticated == false else { return nil }
        entries[id]?.authenticated = true
        waiting.removeAll { $0 == id }
        authenticatedOrder.append(id)
        guard authenticatedOrder.count > maximumConnections - maximumUnauthenticated else { return nil }
        let oldest = authenticatedOrder.removeFirst()
        entries[oldest] = nil
        return oldest
    }

    /// The oldest unauthenticated connection of the address holding the most of them (ties: the address
    /// whose oldest connection is oldest).
    private func oldestWaitingOfBusiestAddress() -> UInt64? {
        var counts: [String: Int] = [:]
        for id in waiting { counts[entries[id]?.address ?? "", default: 0] += 1 }
        guard let most = counts.values.max() else { return nil }
        return waiting.first { counts[entries[$0]?.address ?? ""] == most }
    }

    /// Whether `id` is still connected and unauthenticated (its grace has run out: close it).
    func isWaiting(_ id: UInt64) -> Bool { entries[id]?.authenticated == false }

    /// The connection closed.
    mutating func remove(_ id: UInt64) {
        entries[id] = nil
        waiting.removeAll { $0 == id }
        authenticatedOrder.removeAll { $0 == id }
    }

    /// Connected, and of them unauthenticated.
    var counts: (all: Int, unauthenticated: Int) { (entries.count, waiting.count) }
}
