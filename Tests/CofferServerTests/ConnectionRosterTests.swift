import CofferServer
import Testing

/// The endpoint's connection places (issue 13): who a newcomer displaces when every place is taken.
@Suite struct ConnectionRosterTests {
    private func admitted(_ admission: ConnectionRoster.Admission) -> (id: UInt64, displacing: UInt64?)? {
        guard case .admitted(let id, let displacing) = admission else { return nil }
        return (id, displacing)
    }

    @Test func belowTheLimitNobodyIsDisplaced() throws {
        var roster = ConnectionRoster(maximumConnections: 3)
        for tick in 0..<3 {
            #expect(try #require(admitted(roster.admit(address: "10.0.0.1", now: UInt64(tick)))).displacing == nil)
        }
        #expect(roster.counts == (all: 3, waiting: 3))
    }

    @Test func aNewcomerDisplacesTheLongestWaiting() throws {
        var roster = ConnectionRoster(maximumConnections: 2)
        let first = try #require(admitted(roster.admit(address: "a", now: 1))).id
        let second = try #require(admitted(roster.admit(address: "a", now: 2))).id
        let third = try #require(admitted(roster.admit(address: "a", now: 3)))
        #expect(third.displacing == first)
        #expect(try #require(admitted(roster.admit(address: "a", now: 4))).displacing == second)
        #expect(roster.counts == (all: 2, waiting: 2))
    }

    @Test func aBusyConnectionIsNeverDisplaced() throws {
        var roster = ConnectionRoster(maximumConnections: 2)
        let old = try #require(admitted(roster.admit(address: "a", now: 1))).id
        let young = try #require(admitted(roster.admit(address: "a", now: 2))).id
        let answering = roster.busy(old)  // answering a request: its answer must not be lost
        #expect(answering)
        #expect(try #require(admitted(roster.admit(address: "a", now: 3))).displacing == young)
        // The answer ends at tick 10; the connection waits again, now younger than the newcomer of tick 3.
        roster.waiting(old, now: 10)
        let newcomer = try #require(admitted(roster.admit(address: "a", now: 11)))
        #expect(newcomer.displacing != old)
        #expect(roster.counts.all == 2)
    }

    @Test func everyPlaceBusyRefusesTheNewcomer() throws {
        var roster = ConnectionRoster(maximumConnections: 2)
        for tick in 1...2 {
            let id = try #require(admitted(roster.admit(address: "a", now: UInt64(tick)))).id
            let busy = roster.busy(id)
            #expect(busy)
        }
        #expect(roster.admit(address: "b", now: 3) == .refused)
        #expect(roster.counts == (all: 2, waiting: 0))
    }

    @Test func theAddressWithTheMostWaitingConnectionsLosesFirst() throws {
        // A client's one waiting connection, older than all of an attacker's, stays: the attacker's
        // address holds the most waiting connections, so its own oldest goes.
        var roster = ConnectionRoster(maximumConnections: 4)
        let client = try #require(admitted(roster.admit(address: "10.0.0.9", now: 1))).id
        var attacker: [UInt64] = []
        for tick in 2...4 {
            attacker.append(try #require(admitted(roster.admit(address: "10.0.0.66", now: UInt64(tick)))).id)
        }
        for (tick, expected) in zip(5..., attacker) {
            let admission = try #require(admitted(roster.admit(address: "10.0.0.66", now: UInt64(tick))))
            #expect(admission.displacing == expected)
        }
        // A second client: still the attacker's oldest, never the first client.
        let second = try #require(admitted(roster.admit(address: "10.0.0.10", now: 20)))
        #expect(second.displacing != client)
        #expect(roster.counts.all == 4)
    }

    @Test func closedConnectionsFreeTheirPlaces() throws {
        var roster = ConnectionRoster(maximumConnections: 1)
        let only = try #require(admitted(roster.admit(address: "a", now: 1))).id
        let held = roster.busy(only)
        #expect(held)
        roster.remove(only)
        roster.remove(only)  // twice is harmless
        let gone = !roster.busy(only)
        #expect(gone, "a connection displaced or closed is not busy: its request is not handed on")
        #expect(roster.counts == (all: 0, waiting: 0))
        #expect(try #require(admitted(roster.admit(address: "b", now: 2))).displacing == nil)
    }

    @Test func busyAndWaitingAreIdempotent() throws {
        var roster = ConnectionRoster(maximumConnections: 2)
        let id = try #require(admitted(roster.admit(address: "a", now: 1))).id
        let first = roster.busy(id)
        let second = roster.busy(id)
        #expect(first && second)
        #expect(roster.counts == (all: 1, waiting: 0))
        roster.waiting(id, now: 2)
        roster.waiting(id, now: 3)
        #expect(roster.counts == (all: 1, waiting: 1))
    }

    @Test func tiedAddressesLoseTheirLongestWaitingConnection() throws {
        // One connection each (clients behind different addresses): the one that waited longest goes,
        // whatever the addresses' names.
        var roster = ConnectionRoster(maximumConnections: 3)
        let zulu = try #require(admitted(roster.admit(address: "10.0.0.9", now: 1))).id
        _ = try #require(admitted(roster.admit(address: "10.0.0.1", now: 2)))
        _ = try #require(admitted(roster.admit(address: "10.0.0.5", now: 3)))
        #expect(try #require(admitted(roster.admit(address: "10.0.0.7", now: 4))).displacing == zulu)
    }
}
