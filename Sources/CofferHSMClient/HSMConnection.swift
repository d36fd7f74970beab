import CofferWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection to one HSM: requests are pipelined and matched to their answers by envelope id.
public final class HSMConnection: Sendable {
    private let channel: any Channel
    private let handler: ResponseHandler
    private let nextID = NIOLockedValueBox<Int64>(1)

    private init(channel: any Channel, handler: ResponseHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects to `address`.
    public static func connect(
        to address: HSMAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    )
        async throws -> HSMConnection
    {
        let handler = ResponseHandler()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        switch address {
        case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
        case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        }
        return HSMConnection(channel: channel, handler: handler)
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends `body` and waits for its answer; fails with ``HSMClientError/Code/transport`` when the
    /// connection closes, the write fails, or no answer comes within `timeout`.
    public func request(
        _ body: Envelope.Body, timeout: TimeAmount = .seconds(10)
    ) async throws(HSMClientError)
        -> Envelope.Body
    {
        let id = nextID.withLockedValue { value -> Int64 in
            defer { value = value == Int64.max ? 1 : value + 1 }
            return value
        }
        let promise = channel.eventLoop.makePromise(of: Envelope.self)
        let bytes = Envelope(id: id, body: body).derBytes
        let deadline = NIODeadline.now() + timeout
        let send = { @Sendable [handler, channel] in
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

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
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
