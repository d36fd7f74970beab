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
}
