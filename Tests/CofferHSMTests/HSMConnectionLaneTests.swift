import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// `HSMConnection`'s lanes: session requests made on an event loop go on a socket of that loop, opened in
/// the background and authenticated by its first session request; a lane that closes or cannot open costs
/// no request and does not end the connection; `coffer dev`'s in-process socket pairs put both ends on the
/// asking loop.
@Suite struct HSMConnectionLaneTests {
    /// A connector that records every socket it opens; while `refuse` is set it refuses all but the first
    /// (and counts the refusals); while `sabotage` is set, a lane closes itself instead of writing a frame.
    final class RecordingConnector: Sendable {
        let inner: HSMConnection.Connector
        let opened = NIOLockedValueBox<[any Channel]>([])
        let refuse = NIOLockedValueBox(false)
        let refused = NIOLockedValueBox(0)
        let sabotage = NIOLockedValueBox(false)
        init(_ inner: @escaping HSMConnection.Connector) { self.inner = inner }
        var connector: HSMConnection.Connector {
            { [self] loop, initializer in
                let isLane = !opened.withLockedValue { $0.isEmpty }
                if refuse.withLockedValue({ $0 }) && isLane {
                    refused.withLockedValue { $0 += 1 }
                    return loop.makeFailedFuture(ChannelError.connectTimeout(.seconds(0)))
                }
                let setUp: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
                    initializer(channel).flatMapThrowing {
                        if isLane {
                            try channel.pipeline.syncOperations.addHandler(
                                CloseOnWrite(armed: self.sabotage), position: .first)
                        }
                    }
                }
                return inner(loop, setUp).map { channel in
                    self.opened.withLockedValue { $0.append(channel) }
                    return channel
                }
            }
        }
        var count: Int { opened.withLockedValue { $0.count } }
    }

    /// Closes its channel instead of writing while armed: a lane that the HSM closes under a request.
    final class CloseOnWrite: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        let armed: NIOLockedValueBox<Bool>
        init(armed: NIOLockedValueBox<Bool>) { self.armed = armed }
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            guard armed.withLockedValue({ $0 }) else { return context.write(data, promise: promise) }
            promise?.fail(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
        }
    }

    /// `count` session requests, each from a task running on `loop`.
    static func requests(_ pool: HSMPool, on loop: any EventLoop, count: Int = 1) async throws {
        for _ in 0..<count {
            let result = try await Task(executorPreference: OneLoopExecutor(loop)) {
                try await pool.execute(.generateRandom(length: 16))
            }.value
            guard case .random(let bytes) = result, bytes.count == 16 else { throw FixtureError() }
        }
    }

    /// Repeats `requests` on every loop of `loops` until `done` holds (at most 20 s: lanes open in the
    /// background).
    static func until(
        _ pool: HSMPool, _ loops: [any EventLoop], _ done: () -> Bool
    ) async throws -> Bool {
        for _ in 0..<400 {
            for loop in loops { try await requests(pool, on: loop) }
            if done() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// An HSM, a pool reaching it (through `recording` when `lanes`, else by address) and `threads` event
    /// loops of the test's own to send from (none of them the primary's, which is on the default group).
    struct World {
        let clock = TestClock()
        let hsm: InProcessHSM
        let group: MultiThreadedEventLoopGroup
        let recording: RecordingConnector
        let pool: HSMPool
        var loops: [any EventLoop] { Array(group.makeIterator()) }

        init(
            threads: Int, lanes: Bool = true, inProcess: Bool = false, refuseLanes: Bool = false
        ) async throws {
            hsm = try await InProcessHSM.start(clock: clock)
            group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            let server = hsm.server
            let inProcessConnector: HSMConnection.Connector = { @Sendable loop, initializer in
                server.connectInProcess(on: loop, initializer)
            }
            recording = RecordingConnector(inProcess ? inProcessConnector : HSMConnection.connector(for: hsm.address))
            recording.refuse.withLockedValue { $0 = refuseLanes }
            let clock = clock
            pool = HSMPool(
                addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state,
                clock: { clock.now }, connectors: lanes ? [hsm.address: recording.connector] : [:])
        }

        var counts: (all: Int, unauthenticated: Int) { hsm.server.connectionCounts }

        /// Sends requests on `loop` until its lane has opened and authenticated beside the primary (two
        /// sockets opened, both authenticated); whether that happened in time.
        func laneOpened(on loop: any EventLoop) async throws -> Bool {
            try await HSMConnectionLaneTests.until(pool, [loop]) { recording.count == 2 && counts == (2, 0) }
        }

        func stop() async throws {
            await pool.close()
            try await group.shutdownGracefully()
            hsm.stop()
        }
    }

    @Test func eachEventLoopGetsItsOwnAuthenticatedSocketOverTCP() async throws {
        let world = try await World(threads: 2)
        // The primary lives on the pool's default group; each of the two other loops opens a lane, and the
        // lane's session requests authenticate it: three connections, none waiting on the grace.
        #expect(try await Self.until(world.pool, world.loops) { world.counts == (3, 0) })
        try await Self.requests(world.pool, on: world.loops[0], count: 20)
        #expect(world.counts == (3, 0))
        try await world.stop()
    }

    /// A lane that closes under a request (the HSM closed it) costs that request nothing: it is sent again on
    /// the primary, the member is not failed, and the loop goes without a lane for a while.
    @Test func aRequestWhoseLaneClosesUnderItIsSentOnThePrimary() async throws {
        let world = try await World(threads: 1)
        let loop = world.loops[0]
        #expect(try await world.laneOpened(on: loop))
        let (primary, lane) = world.recording.opened.withLockedValue { ($0[0], $0[1]) }
        world.recording.sabotage.withLockedValue { $0 = true }
        try await Self.requests(world.pool, on: loop, count: 5)
        #expect(!lane.isActive)
        #expect(primary.isActive)
        #expect(world.recording.count == 2)
        try await world.stop()
    }

    /// By address (a `coffer host` and its HSM processes), the pool keeps one socket per member: over TCP,
    /// lanes served fewer requests at 16 connections (``HSMConnection``).
    @Test func aPoolReachingItsHSMByAddressKeepsOneSocket() async throws {
        let world = try await World(threads: 2, lanes: false)
        for loop in world.loops { try await Self.requests(world.pool, on: loop, count: 20) }
        #expect(world.counts == (1, 0))
        try await world.stop()
    }

    @Test func aLaneThatClosesIsOpenedAgainAndTheConnectionStays() async throws {
        let world = try await World(threads: 1)
        let loop = world.loops[0]
        #expect(try await world.laneOpened(on: loop))
        let lane = try #require(world.recording.opened.withLockedValue { $0.last })
        #expect(lane.eventLoop === loop)
        try await lane.close()
        // Requests go on (on the primary), a new lane opens for the loop once the closed one's retry time
        // has passed, and the pool never reconnects its primary (the first socket is still the pool's).
        #expect(try await Self.until(world.pool, [loop]) { world.recording.count == 3 && world.counts == (2, 0) })
        let first = try #require(world.recording.opened.withLockedValue { $0.first })
        #expect(first.isActive)
        try await world.stop()
    }

    /// A lane unused past the idle limit is closed by the host's side and a new one opened (before the HSM's
    /// own idle limit could close it under a request).
    @Test func aLaneIdlePastItsLimitIsClosedAndOpenedAgain() async throws {
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock)
        defer { hsm.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let recording = RecordingConnector(HSMConnection.connector(for: hsm.address))
        let connection = try await HSMConnection.connect(using: recording.connector, laneIdleLimit: .seconds(1))
        var handshake = SessionHandshake(hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state)
        var random = SystemRandom()
        let offer = try handshake.start(now: clock.now, random: &random)
        guard case .accept(let accept) = try await connection.request(.sessionInit(offer)) else {
            throw FixtureError()
        }
        let session = try handshake.receive(accept: accept, now: clock.now)
        let ids = NIOLockedValueBox<Int64>(0)
        func request() async throws {
            let id = ids.withLockedValue { value -> Int64 in
                value += 1
                return value
            }
            let sealed = try session.seal(SessionCommand.generateRandom(length: 16), requestID: id)
            let answer = try await Task(executorPreference: OneLoopExecutor(loop)) {
                try await connection.request(.sessionRequest(sealed))
            }.value
            guard case .sessionResponse = answer else { throw FixtureError() }
        }
        func until(_ done: () -> Bool) async throws -> Bool {
            for _ in 0..<400 {
                try await request()
                if done() { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
        #expect(try await until { recording.count >= 2 && hsm.server.connectionCounts == (2, 0) })
        let (first, opened) = recording.opened.withLockedValue { ($0[$0.count - 1], $0.count) }
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(try await until { recording.count > opened && hsm.server.connectionCounts == (2, 0) })
        #expect(!first.isActive)
        #expect(connection.isActive)
        await connection.close()
        try await group.shutdownGracefully()
    }

    @Test func aLaneThatCannotOpenLeavesEveryRequestOnThePrimary() async throws {
        let world = try await World(threads: 1, refuseLanes: true)
        try await Self.requests(world.pool, on: world.loops[0], count: 50)
        #expect(world.recording.count == 1)
        // Tried once, then set aside for `laneRetry` (5 s): not once per request.
        #expect(world.recording.refused.withLockedValue { $0 } == 1)
        #expect(world.counts == (1, 0))
        try await world.stop()
    }

    @Test func anInProcessConnectionHasBothEndsOnTheAskingLoop() async throws {
        let world = try await World(threads: 2, inProcess: true)
        let loops = world.loops
        #expect(try await Self.until(world.pool, loops) { world.recording.count == 3 && world.counts == (3, 0) })
        let lanes = world.recording.opened.withLockedValue { Array($0.dropFirst()) }
        #expect(Set(lanes.map { ObjectIdentifier($0.eventLoop) }) == Set(loops.map { ObjectIdentifier($0) }))
        // Closing the pool closes every socket, the server's ends with them.
        await world.pool.close()
        for channel in world.recording.opened.withLockedValue({ $0 }) { try await channel.closeFuture.get() }
        for _ in 0..<100 where world.counts.all > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(world.counts == (0, 0))
        try await world.stop()
    }
}
