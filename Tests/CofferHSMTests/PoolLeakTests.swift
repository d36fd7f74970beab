import CofferCrypto
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A pool leaves no connection behind: requests and health checks that arrive together share the one
/// connect under way; `close()` closes what is open, and a closed pool opens none again.
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

/// HSMs that misbehave: one refuses connections, one accepts and resets each at once, one accepts and
/// never answers. A pool over them and one good HSM serves every request through the good one, and after
/// `close()` holds no socket to any of them: the kernel's table of this machine's TCP sockets shows no
/// connection to the bad HSMs still open on the pool's side (ESTABLISHED or CLOSE_WAIT).
@Suite struct MisbehavingHSMTests {
    /// A loopback server that resets every connection at once, or accepts and never answers.
    final class BadServer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let resets: Bool
        let accepted: NIOLockedValueBox<Int>
        init(resets: Bool, accepted: NIOLockedValueBox<Int>) {
            self.resets = resets
            self.accepted = accepted
        }

        func channelActive(context: ChannelHandlerContext) {
            accepted.withLockedValue { $0 += 1 }
            guard resets else { return }
            // SO_LINGER 0: the close is an RST, not a FIN.
            let channel = context.channel
            guard let provider = channel as? any SocketOptionProvider else {
                context.close(promise: nil)
                return
            }
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // stalls: reads, never answers

        /// A bad server; its channel, port, and how many connections it accepted.
        static func start(resets: Bool) async throws -> (any Channel, Int, NIOLockedValueBox<Int>) {
            let accepted = NIOLockedValueBox(0)
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { $0.pipeline.addHandler(BadServer(resets: resets, accepted: accepted)) }
                .bind(host: "127.0.0.1", port: 0).get()
            guard let port = channel.localAddress?.port else { throw FixtureError() }
            return (channel, port, accepted)
        }
    }

    /// Connections of this machine to `ports` that a client still holds open (TCP states 01 ESTABLISHED
    /// and 08 CLOSE_WAIT in /proc/net/tcp; a closed socket is FIN_WAIT or TIME_WAIT, with no descriptor).
    static func openClientSockets(to ports: Set<Int>) throws -> Int {
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            guard fields.count > 3,
                let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { return false }
            return ports.contains(remotePort) && (fields[3] == "01" || fields[3] == "08")
        }.count
    }

    @Test(.timeLimit(.minutes(1)))
    func requestsToAnHSMThatNeverAnswersFailAfterTheirOwnTimeouts() async throws {
        let (stalling, port, _) = try await BadServer.start(resets: false)
        defer { stalling.close(promise: nil) }
        let connection = try await HSMConnection.connect(to: .tcp(host: "127.0.0.1", port: port))
        // Different timeouts on one connection: each request fails with its own, not before it, and the
        // first to fail does not take the others with it.
        let timeouts: [Int64] = [200, 600, 1_000]
        let outcomes = await withTaskGroup(of: (Int64, String?, Duration).self) { group in
            for milliseconds in timeouts {
                group.addTask {
                    let start = ContinuousClock.now
                    do throws(HSMClientError) {
                        _ = try await connection.request(
                            .identify(challenge: [UInt8](repeating: 1, count: 16)), timeout: .milliseconds(milliseconds)
                        )
                        return (milliseconds, nil, ContinuousClock.now - start)
                    } catch {
                        let message = error.code == .transport ? "\(error)" : "not transport: \(error)"
                        return (milliseconds, message, ContinuousClock.now - start)
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
        }
        for milliseconds in timeouts {
            let (message, waited) = try #require(outcomes[milliseconds])
            let failure = try #require(message, "the \(milliseconds) ms request was answered")
            #expect(failure.contains("no answer from the HSM within \(TimeAmount.milliseconds(milliseconds))"))
            #expect(waited >= .milliseconds(milliseconds), "failed before its deadline")
        }
        #expect(connection.isActive)
        await connection.close()
    }

    @Test func aPoolOverRefusingResettingAndStallingHSMsServesAndLeavesNoSocket() async throws {
        let clock = TestClock()
        let good = try await InProcessHSM.start(clock: clock)
        defer { good.stop() }
        let (resetting, resetPort, resets) = try await BadServer.start(resets: true)
        let (stalling, stallPort, stalls) = try await BadServer.start(resets: false)
        // A port nothing listens on: bound, then released.
        let (released, refusePort, _) = try await BadServer.start(resets: true)
        try await released.close()
        let bad: Set<Int> = [resetPort, stallPort, refusePort]
        let pool = HSMPool(
            addresses: [
                .tcp(host: "127.0.0.1", port: refusePort), .tcp(host: "127.0.0.1", port: resetPort),
                .tcp(host: "127.0.0.1", port: stallPort), good.address,
            ],
            hostID: "host-1", hostKey: good.hostKey, domain: good.state, clock: { clock.now })
        for round in 0..<3 {
            let health = await pool.healthCheck()
            #expect(health.filter(\.healthy).map(\.address) == [good.address], "round \(round)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        guard case .random(let bytes) = try await pool.execute(.generateRandom(length: 8)) else {
                            throw FixtureError()
                        }
                        #expect(bytes.withUnsafeBytes { $0.count } == 8)
                    }
                }
                try await group.waitForAll()
            }
            // The bad members' backoff is over: requests try them again in the next round.
            clock.advance(MemberStateMachine<HSMConnection>.maximumBackoff + 1)
        }
        // The pool did meet the bad HSMs (else the count below would prove nothing).
        #expect(resets.withLockedValue { $0 } > 0 && stalls.withLockedValue { $0 } > 0)
        await pool.close()
        for _ in 0..<50 where try Self.openClientSockets(to: bad) != 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try Self.openClientSockets(to: bad) == 0)
        for _ in 0..<50 where good.server.connectionCounts.all != 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(good.server.connectionCounts.all == 0)
        try await resetting.close()
        try await stalling.close()
    }
}
