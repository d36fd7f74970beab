import CofferServer
import CofferTestSupport
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

    /// A keep-alive client's many requests (each a new wait of the same connection, the old ones compacted
    /// away) leave its address's longest-waiting connection first in line.
    @Test func manyRequestsOnOneConnectionKeepTheOrderOfItsAddress() throws {
        var roster = ConnectionRoster(maximumConnections: 3)
        let idle = try #require(admitted(roster.admit(address: "b", now: 1))).id
        let cycling = try #require(admitted(roster.admit(address: "b", now: 2))).id
        let other = try #require(admitted(roster.admit(address: "a", now: 3))).id
        for tick in UInt64(4)..<204 {
            let held = roster.busy(cycling)
            #expect(held)
            roster.waiting(cycling, now: tick)
        }
        #expect(roster.counts == (all: 3, waiting: 3))
        #expect(try #require(admitted(roster.admit(address: "c", now: 300))).displacing == idle)
        // One waiting connection each now: the longest-waiting goes.
        #expect(try #require(admitted(roster.admit(address: "d", now: 301))).displacing == other)
    }

    /// The roster against a model that scans every connection (what the roster did before its index):
    /// random admissions, requests, answers and closes from a few addresses, at non-decreasing ticks,
    /// give the same admissions and displacements, step by step.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8]) func theIndexChoosesAsAScanOfEveryConnectionWould(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var roster = ConnectionRoster(maximumConnections: 12)
        var model = ScanningRoster(maximumConnections: 12)
        var tick: UInt64 = 0
        var open: [UInt64] = []
        for _ in 0..<5_000 {
            tick += random.next(3)  // ties of ticks happen
            let action = random.next(10)
            if action < 4 || open.isEmpty {
                let address = "10.0.0.\(random.next(4))"
                let admission = roster.admit(address: address, now: tick)
                #expect(admission == model.admit(address: address, now: tick))
                if case .admitted(let id, let displaced) = admission {
                    open.append(id)
                    if let displaced { open.removeAll { $0 == displaced } }
                }
            } else {
                let id = open[Int(random.next(UInt64(open.count)))]
                switch action {
                case 4, 5: #expect(roster.busy(id) == model.busy(id))
                case 6, 7, 8:
                    roster.waiting(id, now: tick)
                    model.waiting(id, now: tick)
                default:
                    roster.remove(id)
                    model.remove(id)
                    open.removeAll { $0 == id }
                }
            }
            #expect(roster.counts == model.counts)
        }
    }
}

/// The reference: every connection's state, and a scan of them all to choose whom to displace.
private struct ScanningRoster {
    let maximumConnections: Int
    var nextID: UInt64 = 1
    var turn: UInt64 = 0
    /// Per connection: its address, and (tick, turn) since it waits, or nil while busy.
    var entries: [UInt64: (address: String, waiting: (since: UInt64, turn: UInt64)?)] = [:]

    init(maximumConnections: Int) { self.maximumConnections = maximumConnections }

    var counts: (all: Int, waiting: Int) { (entries.count, entries.values.filter { $0.waiting != nil }.count) }

    mutating func admit(address: String, now: UInt64) -> ConnectionRoster.Admission {
        var displaced: UInt64?
        if entries.count >= maximumConnections {
            var perAddress: [String: Int] = [:]
            for entry in entries.values where entry.waiting != nil { perAddress[entry.address, default: 0] += 1 }
            guard let most = perAddress.values.max() else { return .refused }
            let victim = entries.filter { perAddress[$0.value.address] == most && $0.value.waiting != nil }
                .min {
                    ($0.value.waiting!.since, $0.value.waiting!.turn) < (
                        $1.value.waiting!.since, $1.value.waiting!.turn
                    )
                }!
            entries[victim.key] = nil
            displaced = victim.key
        }
        let id = nextID
        nextID += 1
        entries[id] = (address, (now, turn))
        turn += 1
        return .admitted(id: id, displacing: displaced)
    }

    mutating func busy(_ id: UInt64) -> Bool {
        guard entries[id] != nil else { return false }
        entries[id]?.waiting = nil
        return true
    }

    mutating func waiting(_ id: UInt64, now: UInt64) {
        guard let entry = entries[id], entry.waiting == nil else { return }
        entries[id]?.waiting = (now, turn)
        turn += 1
    }

    mutating func remove(_ id: UInt64) { entries[id] = nil }
}
