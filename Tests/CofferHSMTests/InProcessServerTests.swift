import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// HSMServer in this process on an ephemeral port, with a clock the test controls: the frame watchdog,
/// session renewal at 80 % of the lifetime, and health checks.
@Suite struct InProcessServerTests {
    static func serve(
        clock: TestClock, frameTimeout: TimeAmount = .seconds(30)
    ) async throws
        -> (HSMAddress, DomainState, P384.Signing.PrivateKey, any Channel)
    {
        let hsm = try await InProcessHSM.start(clock: clock, frameTimeout: frameTimeout)
        return (hsm.address, hsm.state, hsm.hostKey, hsm.channel)
    }

    @Test func idleStrangersCannotLockHostsOut() async throws {
        // Issue 13: 256 idle TCP connections used to take every place, so no host could reconnect.
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock, unauthenticatedGrace: .milliseconds(1500))
        defer { hsm.stop() }
        guard case .tcp(let host, let port) = hsm.address else { throw FixtureError() }
        let group = MultiThreadedEventLoopGroup.singleton
        var strangers: [any Channel] = []
        for _ in 0..<(HSMServer.maximumConnections + 50) {
            strangers.append(try await ClientBootstrap(group: group).connect(host: host, port: port).get())
        }
        defer { for stranger in strangers { stranger.close(promise: nil) } }
        try await Task.sleep(for: .milliseconds(200))
        #expect(hsm.server.connectionCounts.unauthenticated <= HSMServer.maximumUnauthenticated)
        // A host still opens a session and is served; its connection then keeps its place.
        let pool = HSMPool(
            addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state, clock: { clock.now })
        guard case .random = try await pool.execute(.generateRandom(length: 8)) else {
            Issue.record("the host was not served")
            return
        }
        // Past the grace every stranger is gone; the host's authenticated connection stays and serves.
        try await Task.sleep(for: .milliseconds(2500))
        #expect(hsm.server.connectionCounts == (all: 1, unauthenticated: 0))
        #expect(strangers.allSatisfy { !$0.isActive })
        guard case .random = try await pool.execute(.generateRandom(length: 8)) else {
            Issue.record("the host's connection was closed")
            return
        }
        await pool.close()
    }

    @Test func aCommandVerifiedBeforeTheLockIsAnsweredAsTheCoreWould() async throws {
        // The server verifies commands and tokens before it takes the core's lock; through the socket, a
        // refusal comes back for the request that caused it, and a genuine command still executes.
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock)
        defer { hsm.stop() }
        var f = DomainFixture(seed: "verified before the lock")
        f.operators = hsm.operators
        f.now = clock.now
        let signed = try f.sign(f.command(.rotateKeys, base: hsm.state), by: ["alice", "bob"])
        var signature = signed.approvals[1].signature
        signature[signature.count - 1] ^= 1
        let forged = SignedCommand(
            command: signed.command,
            approvals: [
                signed.approvals[0], Approval(operatorID: signed.approvals[1].operatorID, signature: signature),
            ])
        let connection = try await HSMConnection.connect(to: hsm.address)
        guard case .failure(let refused) = try await connection.request(.command(forged)) else {
            Issue.record("a forged approval must be refused")
            return
        }
        #expect(refused == Failure(.badSignature, "the approval of bob does not verify"))
        var otherDomain = DomainFixture(seed: "another domain")
        let foreign = try otherDomain.create(on: HSMKeys.generate()).1.token
        guard case .failure(let foreignRefused) = try await connection.request(.applyToken(foreign)) else {
            Issue.record("another domain's token must be refused")
            return
        }
        #expect(foreignRefused.code == .wrongDomain)
        guard case .token(let token) = try await connection.request(.command(signed)) else {
            Issue.record("the genuine command must execute")
            return
        }
        #expect(token.state.epoch == hsm.state.epoch + 1)
        await connection.close()
    }

    @Test func aSessionIsRenewedAtEightyPercentWithoutFailingRequests() async throws {
        let clock = TestClock()
        let (address, state, hostKey, channel) = try await Self.serve(clock: clock)
        defer { channel.close(promise: nil) }
        let pool = HSMPool(
            addresses: [address], hostID: "host-1", hostKey: hostKey, domain: state, clock: { clock.now })
        _ = try await pool.execute(.generateRandom(length: 8))
        let first = try #require(await pool.sessionDigest)
        clock.advance(3600 * 4 / 5 + 1)  // past 80 % of sessionLifetime 3600
        var renewed = false
        for _ in 0..<200 {
            guard case .random = try await pool.execute(.generateRandom(length: 8)) else {
                Issue.record("a request failed during renewal")
                return
            }
            if await pool.sessionDigest != first {
                renewed = true
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(renewed, "the pool must adopt a new session after 80 % of the lifetime")
        // Past the old session's notAfter, requests still work (on the new session).
        clock.advance(3600)
        guard case .random = try await pool.execute(.generateRandom(length: 8)) else {
            Issue.record("a request failed after the old session expired")
            return
        }
        await pool.close()
    }

    @Test func healthChecksReportMembersAndStrangers() async throws {
        let clock = TestClock()
        let (address, state, hostKey, channel) = try await Self.serve(clock: clock)
        let (strangerAddress, _, _, stranger) = try await Self.serve(clock: clock)
        defer {
            channel.close(promise: nil)
            stranger.close(promise: nil)
        }
        let pool = HSMPool(
            addresses: [address, strangerAddress, .tcp(host: "127.0.0.1", port: 1)], hostID: "host-1",
            hostKey: hostKey, domain: state, clock: { clock.now })
        let report = await pool.healthCheck()
        #expect(report.map(\.healthy) == [true, false, false])
        await pool.close()
    }

    @Test func aConnectionThatStaysInsideAFrameIsClosed() async throws {
        let clock = TestClock()
        let (address, _, _, channel) = try await Self.serve(clock: clock, frameTimeout: .milliseconds(300))
        defer { channel.close(promise: nil) }
        guard case .tcp(let host, let port) = address else { return }
        let socket = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
            host: host, port: port
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        try await socket.executeThenClose { inbound, outbound in
            // Whole frames, slowly: the connection stays open.
            for id in 1...3 {
                try await outbound.write(ByteBuffer(bytes: Envelope(id: Int64(id), body: .currentToken).frame))
                try await Task.sleep(for: .milliseconds(150))
            }
            // Half a frame, then nothing: closed after the limit.
            try await outbound.write(ByteBuffer(bytes: [0, 0, 0, 20, 0x30]))
            // Wait for the close, but fail (not hang) if it never comes.
            let received = try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    var count = 0
                    for try await _ in inbound { count += 1 }
                    return count
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            #expect(received != nil, "the connection must be closed after the frame timeout")
            #expect((received ?? 0) >= 1, "the whole frames were answered before the close")
        }
    }
}
