import CofferHSMClient
import Testing

/// The pool's session state machine, driven event by event without sockets or clocks.
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

    /// A machine whose first handshake (at 0) established `session`.
    static func established(_ session: FakeSession = FakeSession(1, from: 0), requestLimit: Int64? = nil) -> Machine {
        var machine = requestLimit.map { Machine(requestLimit: $0) } ?? Machine()
        _ = machine.sessionWanted(now: 0)
        _ = machine.negotiated(session)
        return machine
    }

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
        var machine = Self.established()
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
        guard case .use(let fresh, _, false) = machine.sessionWanted(now: 82) else {
            Issue.record("unexpected action")
            return
        }
        #expect(fresh.digest == [2])
    }

    @Test func renewalStartsAfterTheRequestLimit() {
        var machine = Self.established(requestLimit: 3)
        var renewals: [Bool] = []
        for _ in 0..<4 {
            guard case .use(_, _, let renew) = machine.sessionWanted(now: 1) else {
                Issue.record("unexpected action")
                return
            }
            renewals.append(renew)
        }
        #expect(renewals == [false, false, false, true])
    }

    @Test func failedRenewalKeepsTheSessionAndRetriesAfterTheDelay() {
        var machine = Self.established()
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
        var machine = Self.established()
        _ = machine.sessionWanted(now: 90)
        guard case .wait = machine.sessionWanted(now: 100) else {
            Issue.record("an expired session is not used; the renewal under way is waited for")
            return
        }
        #expect(machine.current == nil)
        _ = machine.negotiated(FakeSession(2, from: 100))
        guard case .use(let session, _, false) = machine.sessionWanted(now: 101) else {
            Issue.record("unexpected action")
            return
        }
        #expect(session.digest == [2])
    }

    @Test func expiredSessionWithoutRenewalNegotiates() {
        var machine = Self.established(FakeSession(1, from: 0, lifetime: 10))
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
        var machine = Self.established()
        machine.rejected(digest: [9])
        #expect(machine.current?.digest == [1])
        machine.rejected(digest: [1])
        #expect(machine.current == nil)
        guard case .negotiate = machine.sessionWanted(now: 1) else {
            Issue.record("renegotiates")
            return
        }

        var renewing = Self.established()
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
        var machine = Self.established()
        guard case .use(_, let first, _) = machine.sessionWanted(now: 1) else {
            Issue.record("unexpected action")
            return
        }
        machine.rejected(digest: [1])
        _ = machine.sessionWanted(now: 1)
        _ = machine.negotiated(FakeSession(2, from: 1))
        guard case .use(_, let second, _) = machine.sessionWanted(now: 2) else {
            Issue.record("unexpected action")
            return
        }
        #expect(second > first)
        let result11 = machine.allocateRequestID()
        #expect(result11 > second)
    }
}
