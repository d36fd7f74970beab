import Testing

@testable import CofferStore

/// The time bound of a PostgreSQL call: which of a late COMMIT and the timeout wins, and what the memory
/// of an outage learns from calls that end after their caller was answered.
@Suite(.timeLimit(.minutes(1))) struct PostgresCallTests {
    typealias Gate = SerialJobsTests.Gate

    @Test func aRefusedCommitMayRunAgainOnlyWhileItsCallerWaits() {
        let running = PostgresCall.Gate()
        #expect(running.beginCommit())
        #expect(running.commitRefused())
        #expect(running.beginCommit())

        // The caller was told `outcomeUnknown` while the COMMIT was on the wire: it is not sent again.
        let unknown = PostgresCall.Gate()
        #expect(unknown.beginCommit())
        #expect(unknown.timeOut())
        #expect(!unknown.commitRefused())
        #expect(!unknown.beginCommit())
        #expect(unknown.timeOut())

        let late = PostgresCall.Gate()
        #expect(!late.timeOut())
        #expect(!late.beginCommit())
        #expect(!late.commitRefused())
    }

    @Test func aFailureAfterItsCallerTimedOutDoesNotShortenLaterCalls() async throws {
        let limits = PostgresCall.Limits()
        let release = Gate()
        await #expect(throws: StoreError(.unavailable, "")) {
            try await PostgresCall.run(limits: limits, timeout: .milliseconds(20)) { _ -> Int in
                await release.wait()
                throw StoreError(.unavailable, "given up after its caller's timeout")
            }
        }
        #expect(limits.timeout() == PostgresCall.Limits.outageTimeout)
        // The database answers again…
        #expect(try await PostgresCall.run(limits: limits, timeout: .seconds(30)) { _ in 7 } == 7)
        #expect(limits.timeout() == PostgresCall.Limits.callTimeout)
        // …and the first call's work gives up only now: not news of the database.
        release.open()
        for _ in 0..<30 {
            try await Task.sleep(for: .milliseconds(10))
            #expect(limits.timeout() == PostgresCall.Limits.callTimeout)
        }
    }
}
