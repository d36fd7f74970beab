import CofferDomain
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Testing

/// `HSMPool.submit`: a quorum command goes to the named executor only, its verified state is adopted and
/// handed out for the store's chain, and what cannot be sent or is refused is an error, not a state.
@Suite struct PoolSubmitTests {
    @Test func aCommandRunsOnTheExecutorAndItsStateIsAdoptedOnce() async throws {
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock)
        defer { hsm.stop() }
        let pool = HSMPool(
            addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state,
            clock: { clock.now })
        var fixture = DomainFixture(seed: "pool submit")
        fixture.operators = hsm.operators
        fixture.now = clock.now
        let signed = try fixture.sign(fixture.command(.rotateKeys, base: hsm.state), by: ["alice", "bob"])
        let executor = try #require(hsm.state.members.first).hsmID

        // Not yet seen by a health check: the pool does not know which address is the executor.
        await #expect(throws: HSMClientError.self) { _ = try await pool.submit(signed, to: executor) }
        let health = await pool.healthCheck()
        #expect(health.allSatisfy { $0.healthy })
        await #expect(throws: HSMClientError.self) { _ = try await pool.submit(signed, to: "not-a-member") }

        let token = try await pool.submit(signed, to: executor)
        #expect(token.state.epoch == hsm.state.epoch + 1)
        let adopted = await pool.domainState
        #expect(adopted == token.state)
        let handedOut = await pool.takeAdoptedTokens()
        #expect(handedOut.map(\.derBytes) == [token.derBytes])

        // The same command again: the HSM has moved past its base and refuses it; the pool's state stays.
        do {
            _ = try await pool.submit(signed, to: executor)
            Issue.record("a command executed once is refused the second time")
        } catch {
            #expect(error.failure?.code == .staleBase)
        }
        let after = await pool.domainState
        #expect(after == token.state)
        await pool.close()
    }
}
