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
        channel.eventLoop.execute { [handler, channel] in
            guard channel.isActive else {
                promise.fail(HSMClientError(.transport, "the connection to the HSM is closed"))
                return
            }
            handler.register(id: id, promise: promise)
            channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenFailure { error in
                handler.fail(id: id, HSMClientError(.transport, "writing to the HSM failed: \(error)"))
            }
            channel.eventLoop.scheduleTask(in: timeout) {
                handler.fail(id: id, HSMClientError(.transport, "no answer from the HSM within \(timeout)"))
            }
        }
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

/// Routes answers to the waiting requests. `@unchecked Sendable`: `pending` is touched only on the
/// channel's event loop.
final class ResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = InboundFrame

    private var pending: [Int64: EventLoopPromise<Envelope>] = [:]

    func register(id: Int64, promise: EventLoopPromise<Envelope>) { pending[id] = promise }

    func fail(id: Int64, _ error: HSMClientError) { pending.removeValue(forKey: id)?.fail(error) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .body(let buffer) = unwrapInboundIn(data),
            let envelope = try? Envelope(derEncoded: Array(buffer.readableBytesView))
        else {
            failAll(HSMClientError(.transport, "the HSM sent a frame that is not a valid envelope"))
            context.close(promise: nil)
            return
        }
        if let promise = pending.removeValue(forKey: envelope.id) {
            promise.succeed(envelope)
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
        for promise in waiting.values { promise.fail(error) }
    }
}
