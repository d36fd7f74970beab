import CofferCrypto
import CofferDomain
import CofferWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The HSM's one listening socket (PROTOCOL §7, §10): framed DER envelopes in, answers out, requests
/// pipelined on a connection and answered by id. The core is shared by all connections behind a lock;
/// each request holds it only while the core computes the answer.
public final class HSMServer: Sendable {
    /// At most this many connections at once; more are closed on accept.
    public static let maximumConnections = 256

    private let core: NIOLockedValueBox<HSMCore>
    private let connections = NIOLockedValueBox(0)
    private let logger: Logger
    private let clock: @Sendable () -> WireTime
    private let frameTimeout: TimeAmount

    /// A server around `core`; `frameTimeout` is §7's 30 s unless a test shortens it.
    public init(
        core: HSMCore, logger: Logger, clock: @escaping @Sendable () -> WireTime = HSMServer.systemClock,
        frameTimeout: TimeAmount = .seconds(30)
    ) {
        self.core = NIOLockedValueBox(core)
        self.logger = logger
        self.clock = clock
        self.frameTimeout = frameTimeout
    }

    /// The wall clock in whole seconds.
    public static let systemClock: @Sendable () -> WireTime = { WireTime.now }

    /// The current hsmID.
    public var hsmID: String? { core.withLockedValue { $0.hsmID } }

    /// Drops every key (SIGTERM, SIGINT, fatal error: PROTOCOL §10).
    public func wipe() {
        core.withLockedValue { $0.wipe() }
    }

    /// Binds `address` and returns the bound channel (its local address tells the port when 0 was asked).
    public func bind(_ address: HSMAddress, group: any EventLoopGroup) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 4 * 1024 * 1024))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let accepted = connections.withLockedValue { count -> Bool in
                        guard count < Self.maximumConnections else { return false }
                        count += 1
                        return true
                    }
                    guard accepted else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { [self] _ in connections.withLockedValue { $0 -= 1 } }
                    try channel.pipeline.syncOperations.addHandler(BackpressureHandler())
                    try channel.pipeline.syncOperations.addHandler(FrameWatchdog(limit: frameTimeout))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(HSMConnectionHandler(server: self))
                }
            }
        switch address {
        case .tcp(let host, let port): return try await bootstrap.bind(host: host, port: port).get()
        case .unix(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        }
    }

    /// Decodes one frame body and answers it.
    func answer(_ frame: InboundFrame) -> Envelope {
        let bytes: [UInt8]
        switch frame {
        case .empty:
            return Envelope(id: 0, body: .failure(Failure(.malformed, "an empty frame")))
        case .body(let buffer):
            bytes = Array(buffer.readableBytesView)
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(derEncoded: bytes)
        } catch {
            let code: Failure.Code = error.code == .unsupported ? .unsupported : .malformed
            logger.notice(
                "refused a frame", metadata: ["reason": "\(error.reason.rawValue)", "bytes": "\(bytes.count)"])
            return Envelope(id: Envelope.peekID(bytes) ?? 0, body: .failure(Failure(code, "\(error.reason.rawValue)")))
        }
        guard envelope.body.isRequest else {
            return Envelope(id: envelope.id, body: .failure(Failure(.malformed, "an answer kind sent as a request")))
        }
        let now = clock()
        var random = SystemRandom()
        let (answer, effect) = core.withLockedValue { $0.handle(envelope, now: now, random: &random) }
        log(envelope, answer)
        if case .restartedWithNewIdentity(let hsmID) = effect {
            logger.notice(
                "left the domain and wiped every key; started over with a new identity", metadata: ["hsmID": "\(hsmID)"]
            )
        }
        return answer
    }

    private func log(_ request: Envelope, _ answer: Envelope) {
        let kind: String
        switch request.body {
        case .identify: kind = "identify"
        case .command(let signed): kind = signed.command.command
        case .applyToken: kind = "applyToken"
        case .currentToken: kind = "currentToken"
        case .sessionInit: kind = "sessionInit"
        case .sessionRequest: kind = "sessionRequest"
        default: kind = "answer kind"
        }
        switch answer.body {
        case .failure(let failure):
            logger.info(
                "refused",
                metadata: [
                    "request": "\(kind)", "id": "\(request.id)", "code": "\(failure.code)",
                    "message": "\(failure.message)",
                ])
        case .token(let token):
            logger.info(
                "answered with a token",
                metadata: [
                    "request": "\(kind)", "id": "\(request.id)", "epoch": "\(token.state.epoch)",
                    "digest": "\(Hex.encode(token.state.digest.prefix(8)))",
                ])
        default:
            logger.debug("answered", metadata: ["request": "\(kind)", "id": "\(request.id)"])
        }
    }
}

/// One connection: each frame in, one answer out. An oversized frame length is an error from the
/// decoder, and the connection is closed without an answer (PROTOCOL §7).
final class HSMConnectionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private let server: HSMServer

    init(server: HSMServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let answer = server.answer(unwrapInboundIn(data))
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer.derBytes)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
