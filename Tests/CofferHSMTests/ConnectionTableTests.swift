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

    @Test func authenticatedConnectionsKeepTheirPlaces() {
        var table = ConnectionTable(maximumConnections: 3, maximumUnauthenticated: 3)
        for expected in UInt64(1)...3 {
            #expect(table.admit() == .admitted(id: expected, evicting: nil))
            table.authenticate(expected)
        }
        #expect(table.admit() == .refused, "every place is held by an authenticated connection")
        table.remove(2)
        #expect(table.admit() == .admitted(id: 4, evicting: nil))
        // Full again with one stranger: the next newcomer evicts the stranger, never a host.
        #expect(table.admit() == .admitted(id: 5, evicting: 4))
        table.authenticate(5)
        table.authenticate(5)
        #expect(table.counts == (all: 3, unauthenticated: 0))
        #expect(!table.isWaiting(5))
    }
}
