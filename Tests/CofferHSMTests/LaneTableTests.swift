import NIOCore
import Testing

@testable import CofferHSMClient

/// `LaneTable`, without sockets: which socket a loop's session request uses, when a lane is opened, set
/// aside, closed for idleness, and that nothing opens once the table is closed.
@Suite struct LaneTableTests {
    final class FakeLane: Sendable {
        let active: Bool
        init(active: Bool = true) { self.active = active }
    }

    typealias Table = LaneTable<FakeLane>
    // Two loops' identities (objects kept alive, so their identifiers differ).
    static let loops = (FakeLane(), FakeLane())
    let a = ObjectIdentifier(loops.0)
    let b = ObjectIdentifier(loops.1)
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func table(enabled: Bool = true) -> Table {
        Table(enabled: enabled, retry: .seconds(5), idleLimit: .minutes(5))
    }

    /// A table where loop `a` has asked once, at `t0`: its lane is being opened.
    func askedByA() -> Table {
        var table = Self.table()
        _ = Self.pick(&table, a, t0)
        return table
    }

    static func pick(_ table: inout Table, _ loop: ObjectIdentifier, _ now: NIODeadline) -> Table.Choice {
        table.choose(for: loop, now: now) { $0.active }
    }

    static func isPrimary(_ choice: Table.Choice, open: Bool, closing: FakeLane? = nil) -> Bool {
        guard case .primary(let opens, let close) = choice else { return false }
        return opens == open && close === closing
    }

    static func isLane(_ choice: Table.Choice, _ lane: FakeLane) -> Bool {
        if case .lane(let chosen) = choice { chosen === lane } else { false }
    }

    @Test func aLoopAsksOnceAndUsesItsLaneOnceOpen() {
        var table = Self.table()
        #expect(Self.isPrimary(Self.pick(&table, a, t0), open: true))
        #expect(Self.isPrimary(Self.pick(&table, a, t0), open: false))  // opening
        #expect(Self.isPrimary(Self.pick(&table, b, t0), open: true))  // its own
        let lane = FakeLane()
        let kept1 = table.opened(lane, for: a, now: t0)
        #expect(kept1)
        #expect(Self.isLane(Self.pick(&table, a, t0 + .seconds(1)), lane))
        #expect(table.open { $0.active } == 1)
    }

    @Test func withoutLanesEverythingUsesThePrimary() {
        var table = Self.table(enabled: false)
        #expect(Self.isPrimary(Self.pick(&table, a, t0), open: false))
        let kept2 = table.opened(FakeLane(), for: a, now: t0)
        #expect(!kept2)
    }

    @Test func aLaneThatCannotOpenIsTriedAgainOnlyAfterTheRetry() {
        var table = askedByA()
        table.openFailed(for: a, now: t0)
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .seconds(4)), open: false))
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .seconds(5)), open: true))
    }

    @Test func aLaneFoundClosedIsSetAsideForTheRetry() {
        var table = askedByA()
        let kept3 = table.opened(FakeLane(active: false), for: a, now: t0)
        #expect(kept3)
        #expect(Self.isPrimary(Self.pick(&table, a, t0), open: false))
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .seconds(4)), open: false))
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .seconds(5)), open: true))
    }

    @Test func aLaneIdlePastTheLimitIsClosedAndAnotherOpened() {
        var table = askedByA()
        let lane = FakeLane()
        _ = table.opened(lane, for: a, now: t0)
        // Each use restarts the idle time.
        #expect(Self.isLane(Self.pick(&table, a, t0 + .minutes(4)), lane))
        #expect(Self.isLane(Self.pick(&table, a, t0 + .minutes(8)), lane))
        let late = Self.pick(&table, a, t0 + .minutes(13))
        #expect(Self.isPrimary(late, open: true, closing: lane))
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .minutes(13)), open: false))
    }

    @Test func aLaneClosedUnderARequestIsSetAsideButANewerOneStays() {
        var table = askedByA()
        let old = FakeLane()
        _ = table.opened(old, for: a, now: t0)
        table.closedUnderRequest(old, for: a, now: t0)
        #expect(Self.isPrimary(Self.pick(&table, a, t0 + .seconds(1)), open: false))
        let newer = FakeLane()
        _ = table.opened(newer, for: a, now: t0 + .seconds(6))
        table.closedUnderRequest(old, for: a, now: t0 + .seconds(6))
        #expect(Self.isLane(Self.pick(&table, a, t0 + .seconds(7)), newer))
    }

    @Test func aClosedTableHandsBackItsLanesAndKeepsNoNewOne() {
        var table = askedByA()
        _ = Self.pick(&table, b, t0)
        let lane = FakeLane()
        _ = table.opened(lane, for: a, now: t0)
        let closed = table.close()
        #expect(closed.count == 1 && closed[0] === lane)
        let kept4 = table.opened(FakeLane(), for: b, now: t0)
        #expect(!kept4)
        table.openFailed(for: b, now: t0)
        #expect(Self.isPrimary(Self.pick(&table, a, t0), open: false))
        let again = table.close()
        #expect(again.isEmpty)
    }
}
