import CofferWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection to one HSM: requests are pipelined and matched to their answers by envelope id.
///
/// It is one socket, the *primary*, and, when connected with `lanes`, at most one more per event loop that
/// sends session requests, a *lane* (which loop uses which socket: ``LaneTable``). A request task runs on the
/// event loop of its HTTP connection; on a socket of another loop its frame is handed across threads, and so
/// is its answer coming back. A session request goes on its own loop's lane, opened in the background the
/// first time that loop asks (the request itself goes on the primary); its first session request
/// authenticates the lane at the HSM. Everything else (handshakes, commands, health checks) goes on the
/// primary, whose state is the connection's: ``isActive`` is the primary's, closing the primary closes the
/// lanes, and a lane that cannot open, or is found closed, is set aside for ``laneRetry`` with no effect on
/// the connection. A request whose lane closed under it (the HSM closed it: its grace for connections that
/// have not authenticated, an eviction) is sent again on the primary: it can have been answered only if it
/// authenticated the lane, and then a second copy is refused by the HSM's anti-replay window, not run twice.
///
/// Lanes pay when the HSM's end of each socket is on the same loop too: `coffer dev`'s in-process socket
/// pairs (``HSMServer/connectInProcess(on:_:)``), where they served 8,100–8,700 GenerateDataKey requests/s
/// at 16 connections against 7,600–7,800 on one socket, and 2,600–2,800 against 1,800–1,900 at 1. To an
/// HSM over TCP they served more at 1 connection (2,000–2,100) but fewer at 16 (6,900–7,300 against
/// 7,650–7,750: the frames of concurrent requests leave in fewer, larger writes on one socket), so a
/// connection by address has none.
public final class HSMConnection: Sendable {
    /// Opens one socket to the HSM on `loop`, its pipeline set up by `initializer`.
    public typealias Connector =
        @Sendable (
            _ loop: any EventLoop, _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
        ) -> EventLoopFuture<any Channel>

    /// How long a loop goes without a lane after one could not open or was found closed.
    static let laneRetry = TimeAmount.seconds(5)
    /// A lane unused for this long is closed and a new one opened when its loop next sends a session
    /// request: the HSM closes a connection that sends nothing for 10 minutes (health checks keep only the
    /// primary busy).
    public static let laneIdleLimit = TimeAmount.minutes(5)

    /// One socket and its answer routing.
    private final class Lane: Sendable {
        let channel: any Channel
        let handler: ResponseHandler
        init(channel: any Channel, handler: ResponseHandler) {
            self.channel = channel
            self.handler = handler
        }
    }

    private let primary: Lane
    private let connector: Connector
    /// Whether `lanes` is enabled, kept beside it so that a connection without lanes (every `coffer host`'s)
    /// takes no lock per request.
    private let hasLanes: Bool
    private let lanes: NIOLockedValueBox<LaneTable<Lane>>
    private let nextID = NIOLockedValueBox<Int64>(1)

    private init(primary: Lane, connector: @escaping Connector, lanes: Bool, laneIdleLimit: TimeAmount) {
        self.primary = primary
        self.connector = connector
        hasLanes = lanes
        self.lanes = NIOLockedValueBox(LaneTable(enabled: lanes, retry: Self.laneRetry, idleLimit: laneIdleLimit))
    }

    /// Connects to `address`.
    public static func connect(
        to address: HSMAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    )
        async throws -> HSMConnection
    {
        try await connect(using: connector(for: address), lanes: false, group: group)
    }

    /// Connects with `connector`, with a lane per event loop when `lanes` (an HSM reached another way than by
    /// address: `coffer dev`'s in-process HSM); `laneIdleLimit` is shortened only by tests.
    public static func connect(
        using connector: @escaping Connector, lanes: Bool = true, laneIdleLimit: TimeAmount = laneIdleLimit,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> HSMConnection {
        let handler = ResponseHandler()
        let channel = try await connector(group.next(), pipeline(handler)).get()
        let connection = HSMConnection(
            primary: Lane(channel: channel, handler: handler), connector: connector, lanes: lanes,
            laneIdleLimit: laneIdleLimit)
        // The lanes go with the primary, whoever closes it.
        channel.closeFuture.whenComplete { [weak connection] _ in connection?.closeLanes() }
        return connection
    }

    /// Sockets to `address` over TCP or a Unix domain socket.
    public static func connector(for address: HSMAddress) -> Connector {
        { loop, initializer in
            let bootstrap = ClientBootstrap(group: loop).connectTimeout(.seconds(5)).channelInitializer(initializer)
            switch address {
            case .tcp(let host, let port): return bootstrap.connect(host: host, port: port)
            case .unix(let path): return bootstrap.connect(unixDomainSocketPath: path)
            }
        }
    }

    private static func pipeline(_ handler: ResponseHandler) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
    }

    /// Whether the connection is still open (its primary socket).
    public var isActive: Bool { primary.channel.isActive }

    /// Sends `body` and waits for its answer; fails with ``HSMClientError/Code/transport`` when the
    /// connection closes, the write fails, or no answer comes within `timeout`.
    public func request(
        _ body: Envelope.Body, timeout: TimeAmount = .seconds(10)
    ) async throws(HSMClientError)
        -> Envelope.Body
    {
        guard hasLanes, case .sessionRequest = body, let loop = MultiThreadedEventLoopGroup.currentEventLoop,
            !primary.channel.eventLoop.inEventLoop
        else { return try await send(body, on: primary, timeout: timeout) }
        let key = ObjectIdentifier(loop)
        let choice = lanes.withLockedValue { $0.choose(for: key, now: .now()) { $0.channel.isActive } }
        switch choice {
        case .primary(let open, let idle):
            idle?.channel.close(promise: nil)
            if open { openLane(on: loop, key: key) }
            return try await send(body, on: primary, timeout: timeout)
        case .lane(let lane):
            do {
                return try await send(body, on: lane, timeout: timeout)
            } catch  where error.code == .transport && !lane.channel.isActive && primary.channel.isActive {
                lanes.withLockedValue { $0.closedUnderRequest(lane, for: key, now: .now()) }
                return try await send(body, on: primary, timeout: timeout)
            }
        }
    }

    /// Sends `body` on `lane` and waits for its answer.
    private func send(
        _ body: Envelope.Body, on lane: Lane, timeout: TimeAmount
    ) async throws(HSMClientError) -> Envelope.Body {
        let id = nextID.withLockedValue { value -> Int64 in
            defer { value = value == Int64.max ? 1 : value + 1 }
            return value
        }
        let (channel, handler) = (lane.channel, lane.handler)
        let promise = channel.eventLoop.makePromise(of: Envelope.self)
        let bytes = Envelope(id: id, body: body).derBytes
        let deadline = NIODeadline.now() + timeout
        let send = { @Sendable in
            guard channel.isActive else {
                promise.fail(HSMClientError(.transport, "the connection to the HSM is closed"))
                return
            }
            handler.register(id: id, promise: promise, deadline: deadline, timeout: timeout, on: channel.eventLoop)
            channel.write(ByteBuffer(bytes: bytes)).whenFailure { error in
                handler.fail(id: id, HSMClientError(.transport, "writing to the HSM failed: \(error)"))
            }
            handler.flushSoon(channel)
        }
        // A request task runs on the event loop that resumed it (the host's task executor); on the
        // connection's own loop the frame is queued at once, without a trip through the loop's task queue.
        if channel.eventLoop.inEventLoop { send() } else { channel.eventLoop.execute(send) }
        do {
            return try await promise.futureResult.get().body
        } catch let error as HSMClientError {
            throw error
        } catch {
            throw HSMClientError(.transport, "\(error)")
        }
    }

    private func openLane(on loop: any EventLoop, key: ObjectIdentifier) {
        let handler = ResponseHandler()
        connector(loop, Self.pipeline(handler)).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                let lane = Lane(channel: channel, handler: handler)
                let kept = lanes.withLockedValue { $0.opened(lane, for: key, now: .now()) }
                if !kept { channel.close(promise: nil) }
            case .failure:
                lanes.withLockedValue { $0.openFailed(for: key, now: .now()) }
            }
        }
    }

    /// Closes every lane; none opens after this.
    private func closeLanes() {
        for lane in lanes.withLockedValue({ $0.close() }) { lane.channel.close(promise: nil) }
    }

    /// Closes the connection: the primary and every lane.
    public func close() async {
        let open = lanes.withLockedValue { $0.close() }
        for lane in open { try? await lane.channel.close() }
        try? await primary.channel.close()
    }
}

/// Routes answers to the waiting requests and fails those that wait past their deadline. `@unchecked
/// Sendable`: `pending`, `sweep` and `flushQueued` are touched only on the channel's event loop.
///
/// Deadlines are checked by one timer per connection, every ``sweepInterval`` while requests wait, not by a
/// timer per request: a timer per request stayed in the event loop's heap for its whole timeout after the
/// answer came (about 30,000 of them at 3,000 requests/s and 10 s). A request therefore fails at most one
/// interval after its deadline.
final class ResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = InboundFrame

    /// How often waiting requests are checked against their deadlines.
    static let sweepInterval = TimeAmount.milliseconds(250)

    private struct Waiting {
        let promise: EventLoopPromise<Envelope>
        let deadline: NIODeadline
        let timeout: TimeAmount
    }

    private var pending: [Int64: Waiting] = [:]
    private var sweep: Scheduled<Void>?
    private var flushQueued = false

    /// Flushes `channel` once the event loop has run the tasks already queued: requests submitted together
    /// (one per waiting caller) leave in one `write` system call, not one each. The flush runs after every
    /// write queued before it; a write queued after it finds no flush queued and queues one.
    func flushSoon(_ channel: any Channel) {
        guard !flushQueued else { return }
        flushQueued = true
        channel.eventLoop.execute { [self] in
            flushQueued = false
            channel.flush()
        }
    }

    func register(
        id: Int64, promise: EventLoopPromise<Envelope>, deadline: NIODeadline, timeout: TimeAmount,
        on eventLoop: any EventLoop
    ) {
        pending[id] = Waiting(promise: promise, deadline: deadline, timeout: timeout)
        if sweep == nil { scheduleSweep(on: eventLoop) }
    }

    func fail(id: Int64, _ error: HSMClientError) { pending.removeValue(forKey: id)?.promise.fail(error) }

    /// Fails the requests past their deadline; runs again while any request waits.
    private func scheduleSweep(on eventLoop: any EventLoop) {
        sweep = eventLoop.scheduleTask(in: Self.sweepInterval) { [self] in
            sweep = nil
            let now = NIODeadline.now()
            for (id, waiting) in pending where waiting.deadline <= now {
                fail(id: id, HSMClientError(.transport, "no answer from the HSM within \(waiting.timeout)"))
            }
            if !pending.isEmpty { scheduleSweep(on: eventLoop) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .body(let buffer) = unwrapInboundIn(data),
            let envelope = try? Envelope(derEncoded: Array(buffer.readableBytesView))
        else {
            failAll(HSMClientError(.transport, "the HSM sent a frame that is not a valid envelope"))
            context.close(promise: nil)
            return
        }
        if let waiting = pending.removeValue(forKey: envelope.id) {
            waiting.promise.succeed(envelope)
        } else if envelope.id == 0, case .failure(let failure) = envelope.body {
            failAll(HSMClientError(.transport, "the HSM refused a frame: \(failure.code) \(failure.message)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HSMClientError(.transport, "the connection to the HSM closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let waiting = pending
        pending = [:]
        sweep?.cancel()
        sweep = nil
        for entry in waiting.values { entry.promise.fail(error) }
    }
}
