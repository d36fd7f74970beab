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

    /// Sends `body` and waits for its answer.
    public func request(_ body: Envelope.Body) async throws -> Envelope.Body {
        let id = nextID.withLockedValue { value -> Int64 in
            defer { value = value == Int64.max ? 1 : value + 1 }
            return value
        }
        let promise = channel.eventLoop.makePromise(of: Envelope.self)
        let bytes = Envelope(id: id, body: body).derBytes
        channel.eventLoop.execute { [handler, channel] in
            handler.register(id: id, promise: promise)
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }
        return try await promise.futureResult.get().body
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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .body(let buffer) = unwrapInboundIn(data),
            let envelope = try? Envelope(derEncoded: Array(buffer.readableBytesView))
        else {
            failAll(HSMClientError("the HSM sent a frame that is not a valid envelope"))
            context.close(promise: nil)
            return
        }
        if let promise = pending.removeValue(forKey: envelope.id) {
            promise.succeed(envelope)
        } else if envelope.id == 0, case .failure(let failure) = envelope.body {
            failAll(HSMClientError("the HSM refused a frame: \(failure.code) \(failure.message)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HSMClientError("the connection to the HSM closed"))
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

/// A transport-level failure talking to an HSM.
public struct HSMClientError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
