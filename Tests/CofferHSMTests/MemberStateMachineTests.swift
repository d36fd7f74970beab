import CofferHSMClient
import Testing

/// The pool's per-member state machine, driven event by event without sockets or clocks.
@Suite struct MemberStateMachineTests {
    typealias Machine = MemberStateMachine<String>

    @Test func firstUseConnectsAndLaterUsesWaitThenShareIt() {
        var member = Machine()
        guard case .connect = member.connectionWanted(now: 0) else {
            Issue.record("first use connects")
            return
        }
        guard case .wait = member.connectionWanted(now: 0) else {
            Issue.record("a second use waits")
            return
        }
        guard case .use("c1", let generation) = member.connectSucceeded("c1") else {
            Issue.record("a connect that succeeds is used")
            return
        }
        guard case .use("c1", generation) = member.connectionWanted(now: 0) else {
            Issue.record("later uses share the connection")
            return
        }
    }

    @Test func failureClosesTheConnectionAndBacksOffDoublingToTheMaximum() {
        var member = Machine()
        var now: Int64 = 100
        var delays: [Int64] = []
        for round in 0..<6 {
            guard case .connect = member.connectionWanted(now: now) else {
                Issue.record("round \(round) connects again once the backoff is over")
                return
            }
            guard case .use(_, let generation) = member.connectSucceeded("c\(round)") else {
                Issue.record("unexpected action")
                return
            }
            let result1 = member.failed(generation: generation, now: now)
            #expect(result1 == "c\(round)")
            #expect(member.isFailed)
            guard case .backingOff(let until) = member.connectionWanted(now: now) else {
                Issue.record("a failed member backs off")
                return
            }
            #expect(!member.isUsable(now: now))
            #expect(member.isUsable(now: until))
            delays.append(until - now)
            now = until
        }
        #expect(delays == [1, 2, 4, 8, 8, 8])
        #expect(Machine.maximumBackoff == 8)
    }

    @Test func successForgetsFailures() {
        var member = Machine()
        _ = member.connectionWanted(now: 0)
        _ = member.connectSucceeded("a")
        _ = member.failed(generation: 1, now: 0)
        _ = member.connectionWanted(now: 1)
        _ = member.connectSucceeded("b")
        _ = member.failed(generation: 2, now: 1)
        guard case .backingOff(3) = member.connectionWanted(now: 1) else {
            Issue.record("second failure: 2 s")
            return
        }
        _ = member.connectionWanted(now: 3)
        _ = member.connectSucceeded("c")
        member.succeeded()
        _ = member.failed(generation: 3, now: 3)
        guard case .backingOff(4) = member.connectionWanted(now: 3) else {
            Issue.record("after a success the next failure backs off 1 s again")
            return
        }
    }

    @Test func aLateFailureReportOfAReplacedConnectionChangesNothing() {
        var member = Machine()
        _ = member.connectionWanted(now: 0)
        guard case .use(_, let old) = member.connectSucceeded("old") else {
            Issue.record("unexpected action")
            return
        }
        let result2 = member.dropped(generation: old)
        #expect(result2 == "old")
        guard case .connect = member.connectionWanted(now: 0) else {
            Issue.record("a connection found closed is reopened at once, without backoff")
            return
        }
        guard case .use(_, let fresh) = member.connectSucceeded("fresh") else {
            Issue.record("unexpected action")
            return
        }
        #expect(fresh != old)
        let result3 = member.failed(generation: old, now: 0)
        #expect(result3 == nil)
        let result4 = member.dropped(generation: old)
        #expect(result4 == nil)
        guard case .use("fresh", fresh) = member.connectionWanted(now: 0) else {
            Issue.record("the fresh connection survives a late report about the old one")
            return
        }
    }

    @Test func failedConnectBacksOffAndHealthCheckTriesRegardless() {
        var member = Machine()
        _ = member.connectionWanted(now: 10)
        member.connectFailed(now: 10)
        guard case .backingOff(11) = member.connectionWanted(now: 10) else {
            Issue.record("backs off")
            return
        }
        guard case .connect = member.connectionWanted(now: 10, ignoringBackoff: true) else {
            Issue.record("a health check tries a member that backs off")
            return
        }
    }

    @Test func memberFailureWithoutAConnectionStillBacksOff() {
        var member = Machine()
        let result5 = member.memberFailed(now: 5)
        #expect(result5 == nil)
        #expect(!member.isUsable(now: 5))
        _ = member.connectionWanted(now: 6)
        _ = member.connectSucceeded("c")
        let result6 = member.memberFailed(now: 6)
        #expect(result6 == "c")
        #expect(member.isFailed)
    }

    @Test func closeReturnsTheOpenConnectionAndClosesOneThatOpensLater() {
        var member = Machine()
        _ = member.connectionWanted(now: 0)
        _ = member.connectSucceeded("open")
        let result7 = member.close()
        #expect(result7 == "open")
        guard case .closed = member.connectionWanted(now: 0) else {
            Issue.record("nothing opens again")
            return
        }
        #expect(!member.isUsable(now: 0))

        var connecting = Machine()
        _ = connecting.connectionWanted(now: 0)
        let result8 = connecting.close()
        #expect(result8 == nil)
        guard case .close("late") = connecting.connectSucceeded("late") else {
            Issue.record("a connect that ends after close is closed")
            return
        }
    }

    @Test func outstandingCountsRequestsInFlight() {
        var member = Machine()
        member.requestStarted()
        member.requestStarted()
        member.requestEnded()
        #expect(member.outstanding == 1)
        member.requestEnded()
        #expect(member.outstanding == 0)
    }
}
