import CofferHSMClient
import Testing

/// The pool's member and session state machines, driven event by event without sockets or clocks.
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
            guard case .use(_, let generation) = member.connectSucceeded("c\(round)") else { return }
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
        guard case .use(_, let old) = member.connectSucceeded("old") else { return }
        let result2 = member.dropped(generation: old)
        #expect(result2 == "old")
        guard case .connect = member.connectionWanted(now: 0) else {
            Issue.record("a connection found closed is reopened at once, without backoff")
            return
        }
        guard case .use(_, let fresh) = member.connectSucceeded("fresh") else { return }
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

    @Test func outstandingCountsRequestsAndNeverGoesNegative() {
        var member = Machine()
        member.requestStarted()
        member.requestStarted()
        member.requestEnded()
        #expect(member.outstanding == 1)
        member.requestEnded()
        member.requestEnded()
        #expect(member.outstanding == 0)
    }
}

@Suite struct SessionStateMachineTests {
    struct FakeSession: PoolSession, Equatable {
        let expiresAt: Int64
        let renewsAt: Int64
        let digest: [UInt8]
        init(_ name: UInt8, from: Int64, lifetime: Int64 = 100) {
            expiresAt = from + lifetime
            renewsAt = from + lifetime * 4 / 5
            digest = [name]
        }
    }
    typealias Machine = SessionStateMachine<FakeSession>

    @Test func requestsShareOneHandshakeThenUseTheSessionWithFreshIDs() {
        var machine = Machine()
        guard case .negotiate = machine.sessionWanted(now: 0) else {
            Issue.record("first request negotiates")
            return
        }
        guard case .wait = machine.sessionWanted(now: 0) else {
            Issue.record("the second waits")
            return
        }
        let result9 = machine.negotiated(FakeSession(1, from: 0))
        #expect(result9)
        var ids: [Int64] = []
        for _ in 0..<3 {
            guard case .use(let session, let id, false) = machine.sessionWanted(now: 1) else {
                Issue.record("an established session is used")
                return
            }
            #expect(session.digest == [1])
            ids.append(id)
        }
        #expect(ids == [1, 2, 3])
    }

    @Test func renewalStartsOnceAtEightyPercentAndRequestsKeepTheOldSession() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        guard case .use(_, _, true) = machine.sessionWanted(now: 80) else {
            Issue.record("at 80 % of the lifetime a renewal starts")
            return
        }
        guard case .use(let old, _, false) = machine.sessionWanted(now: 81) else {
            Issue.record("requests keep the old session during renewal, and start no second renewal")
            return
        }
        #expect(old.digest == [1])
        _ = machine.negotiated(FakeSession(2, from: 81))
        guard case .use(let fresh, _, false) = machine.sessionWanted(now: 82) else { return }
        #expect(fresh.digest == [2])
    }

    @Test func renewalStartsAfterTheRequestLimit() {
        var machine = Machine(requestLimit: 3)
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        var renewals: [Bool] = []
        for _ in 0..<4 {
            guard case .use(_, _, let renew) = machine.sessionWanted(now: 1) else { return }
            renewals.append(renew)
        }
        #expect(renewals == [false, false, false, true])
    }

    @Test func failedRenewalKeepsTheSessionAndRetriesAfterTheDelay() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        _ = machine.sessionWanted(now: 85)
        machine.negotiationFailed(now: 85)
        guard case .use(_, _, false) = machine.sessionWanted(now: 85) else {
            Issue.record("no renewal storm right after a failure")
            return
        }
        guard case .use(_, _, true) = machine.sessionWanted(now: 85 + Machine.renewalRetryDelay) else {
            Issue.record("renewal is tried again after the delay")
            return
        }
    }

    @Test func expiryDuringRenewalWaitsForTheRenewal() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        _ = machine.sessionWanted(now: 90)
        guard case .wait = machine.sessionWanted(now: 100) else {
            Issue.record("an expired session is not used; the renewal under way is waited for")
            return
        }
        #expect(machine.current == nil)
        _ = machine.negotiated(FakeSession(2, from: 100))
        guard case .use(let session, _, false) = machine.sessionWanted(now: 101) else { return }
        #expect(session.digest == [2])
    }

    @Test func expiredSessionWithoutRenewalNegotiates() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0, lifetime: 10))
        guard case .negotiate = machine.sessionWanted(now: 10) else {
            Issue.record("expired: negotiate")
            return
        }
    }

    @Test func failedNegotiationLeavesNoSessionAndTheNextRequestTriesAgain() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        machine.negotiationFailed(now: 0)
        #expect(machine.current == nil)
        guard case .negotiate = machine.sessionWanted(now: 0) else {
            Issue.record("tries again")
            return
        }
    }

    @Test func rejectionDropsOnlyTheRejectedSession() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        machine.rejected(digest: [9])
        #expect(machine.current?.digest == [1])
        machine.rejected(digest: [1])
        #expect(machine.current == nil)
        guard case .negotiate = machine.sessionWanted(now: 1) else {
            Issue.record("renegotiates")
            return
        }

        var renewing = Machine()
        _ = renewing.sessionWanted(now: 0)
        _ = renewing.negotiated(FakeSession(1, from: 0))
        _ = renewing.sessionWanted(now: 80)
        renewing.rejected(digest: [1])
        guard case .wait = renewing.sessionWanted(now: 81) else {
            Issue.record("a session rejected while renewing waits for the renewal")
            return
        }
    }

    @Test func closedMachineRefusesAndDiscardsALateHandshake() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        machine.close()
        let result10 = machine.negotiated(FakeSession(1, from: 0))
        #expect(!result10)
        guard case .closed = machine.sessionWanted(now: 0) else {
            Issue.record("closed")
            return
        }
        #expect(machine.current == nil)
    }

    @Test func requestIDsAreNeverReusedAcrossSessions() {
        var machine = Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(FakeSession(1, from: 0))
        guard case .use(_, let first, _) = machine.sessionWanted(now: 1) else { return }
        machine.rejected(digest: [1])
        _ = machine.sessionWanted(now: 1)
        _ = machine.negotiated(FakeSession(2, from: 1))
        guard case .use(_, let second, _) = machine.sessionWanted(now: 2) else { return }
        #expect(second > first)
        let result11 = machine.allocateRequestID()
        #expect(result11 > second)
    }
}
