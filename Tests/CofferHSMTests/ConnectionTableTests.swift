import Testing

@testable import CofferHSM

/// The HSM's connection table as a pure state machine: strangers are bounded and evicted oldest first;
/// authenticated connections are never displaced.
@Suite struct ConnectionTableTests {
    @Test func strangersAreBoundedAndTheOldestGoesFirst() {
        var table = ConnectionTable(maximumConnections: 4, maximumUnauthenticated: 2)
        #expect(table.admit() == .admitted(id: 1, evicting: nil))
        #expect(table.admit() == .admitted(id: 2, evicting: nil))
        #expect(table.admit() == .admitted(id: 3, evicting: 1))
        #expect(table.counts == (all: 2, unauthenticated: 2))
        #expect(!table.isWaiting(1) && table.isWaiting(2) && table.isWaiting(3))
    }

    @Test func strangersNeverDisplaceAuthenticatedConnections() {
        var table = ConnectionTable(maximumConnections: 4, maximumUnauthenticated: 2)
        for expected in UInt64(1)...2 {
            #expect(table.admit() == .admitted(id: expected, evicting: nil))
            #expect(table.authenticate(expected) == nil)
        }
        // Strangers fill the two other places and then evict each other, never a host.
        #expect(table.admit() == .admitted(id: 3, evicting: nil))
        #expect(table.admit() == .admitted(id: 4, evicting: nil))
        #expect(table.admit() == .admitted(id: 5, evicting: 3))
        #expect(table.counts == (all: 4, unauthenticated: 2))
        #expect(!table.isWaiting(1) && !table.isWaiting(2))
        #expect(table.authenticate(2) == nil, "authenticating twice changes nothing")
    }

    @Test func authenticatedConnectionsLeaveRoomForNewcomers() {
        var table = ConnectionTable(maximumConnections: 4, maximumUnauthenticated: 2)
        for expected in UInt64(1)...2 {
            #expect(table.admit() == .admitted(id: expected, evicting: nil))
            #expect(table.authenticate(expected) == nil)
        }
        // A third authenticated connection would leave newcomers fewer than two places: the one that
        // authenticated longest ago goes (its host reconnects).
        #expect(table.admit() == .admitted(id: 3, evicting: nil))
        #expect(table.authenticate(3) == 1)
        #expect(table.counts == (all: 2, unauthenticated: 0))
        table.remove(2)
        #expect(table.admit() == .admitted(id: 4, evicting: nil))
        #expect(table.authenticate(4) == nil)
    }

    @Test func oneAddressFloodingEvictsItsOwnBeforeAHostsNewcomer() {
        // A host's connection, younger than the flood's oldest, survives while it authenticates: the
        // address holding the most unauthenticated connections loses its own first.
        var table = ConnectionTable(maximumConnections: 8, maximumUnauthenticated: 4)
        #expect(table.admit(address: "10.0.0.66") == .admitted(id: 1, evicting: nil))
        #expect(table.admit(address: "10.0.0.5") == .admitted(id: 2, evicting: nil))  // the host
        #expect(table.admit(address: "10.0.0.66") == .admitted(id: 3, evicting: nil))
        #expect(table.admit(address: "10.0.0.66") == .admitted(id: 4, evicting: nil))
        for (newcomer, evicted) in [(UInt64(5), UInt64(1)), (6, 3), (7, 4), (8, 5), (9, 6)] {
            #expect(table.admit(address: "10.0.0.66") == .admitted(id: newcomer, evicting: evicted))
        }
        #expect(table.isWaiting(2))
        #expect(table.authenticate(2) == nil)
        // Equal counts: the address whose oldest connection is oldest.
        var even = ConnectionTable(maximumConnections: 8, maximumUnauthenticated: 2)
        _ = even.admit(address: "b")
        _ = even.admit(address: "a")
        #expect(even.admit(address: "c") == .admitted(id: 3, evicting: 1))
    }
}
