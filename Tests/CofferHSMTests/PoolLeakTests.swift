import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Testing

/// A pool leaves no connection behind: requests and health checks that arrive together each open a
/// connection while the pool waits, and all but one are closed; `close()` closes the rest, and a closed
/// pool opens none again.
@Suite struct PoolLeakTests {
    @Test func concurrentFirstUsesAndCloseLeaveNothingOpen() async throws {
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock)
        defer { hsm.stop() }
        for _ in 0..<3 {
            let pool = HSMPool(
                addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state,
                clock: { clock.now })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        if index % 2 == 0 {
                            _ = await pool.healthCheck()
                        } else {
                            _ = try await pool.execute(.generateRandom(length: 8))
                        }
                    }
                }
                try await group.waitForAll()
            }
            await pool.close()
            await #expect(throws: HSMClientError.self) { _ = try await pool.execute(.generateRandom(length: 8)) }
        }
        // The HSM sees every connection closed (its side closes asynchronously: wait for it). Counted by
        // this HSM, not by the process's descriptors, which other tests running alongside change.
        for _ in 0..<50 where hsm.server.connectionCounts.all != 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(hsm.server.connectionCounts.all == 0)
    }
}
