import CofferCrypto
import CofferDomain
import CofferWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The HSM's one listening socket (PROTOCOL §7, §10): framed DER envelopes in, answers out, requests
/// pipelined on a connection and answered by id. (`coffer dev` also reaches its HSM inside the process,
/// through ``connectInProcess(on:_:)``: the same framing, admission and limits.) The core is shared by all
/// connections behind a lock; each request holds it only while the core computes the answer, and the
/// public-key work anyone who reaches the socket can ask for (an identity's signature, a session's Sig1, a
/// command's approvals, a domain token's signatures and key agreement) is done before taking it.
public final class HSMServer: Sendable {
    /// At most this many connections at once. When all are taken, a new connection evicts the oldest
    /// unauthenticated one, or is closed when every place is held by an authenticated connection.
    public static let maximumConnections = 256
    /// At most this many connections that have not yet authenticated (``ConnectionTable``); a new one
    /// past this evicts the oldest of the address holding the most.
    public static let maximumUnauthenticated = 64
    /// A connection that sends no frame for this long is closed, authenticated or not.
    public static let idleLimit: TimeAmount = .minutes(10)
    /// When a connection's answers wait unwritten past `high` bytes, it reads no more until they drain
    /// below `low` (``BackpressureHandler``).
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 256 * 1024, high: 4 * 1024 * 1024)

    private let core: NIOLockedValueBox<HSMCore>
    private let connections: NIOLockedValueBox<(table: ConnectionTable, channels: [UInt64: any Channel])>
    private let logger: Logger
    private let clock: @Sendable () -> WireTime
    private let frameTimeout: TimeAmount
    private let unauthenticatedGrace: TimeAmount

    /// A server around `core`; `frameTimeout` is §7's 30 s and `unauthenticatedGrace` (how long a
    /// connection may stay without authenticating) 10 s, unless a test shortens them.
    public init(
        core: HSMCore, logger: Logger, clock: @escaping @Sendable () -> WireTime = HSMServer.systemClock,
        frameTimeout: TimeAmount = .seconds(30), unauthenticatedGrace: TimeAmount = .seconds(10)
    ) {
        self.core = NIOLockedValueBox(core)
        self.logger = logger
        self.clock = clock
        self.frameTimeout = frameTimeout
        self.unauthenticatedGrace = unauthenticatedGrace
        connections = NIOLockedValueBox(
            (
                ConnectionTable(
                    maximumConnections: Self.maximumConnections, maximumUnauthenticated: Self.maximumUnauthenticated),
                [:]
            ))
    }

    /// Connected, and of them not yet authenticated.
    public var connectionCounts: (all: Int, unauthenticated: Int) {
        connections.withLockedValue { $0.table.counts }
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
            .childChannelOption(.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try serve(channel) }
            }
        switch address {
        case .tcp(let host, let port): return try await bootstrap.bind(host: host, port: port).get()
        case .unix(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        }
    }

    /// A connection inside this process, both ends on `loop`: a Unix socket pair whose one end the server
    /// serves as if it had accepted it (admission, limits, watchdogs: all as for any connection) and whose
    /// other end is the caller's, set up by `initializer`. `coffer dev`'s host reaches its HSM this way, so
    /// that a request's frame, its answer and the task awaiting it stay on the event loop the request runs
    /// on (``HSMConnection``'s lanes); over TCP the server's end was on whichever loop accepted it.
    public func connectInProcess(
        on loop: any EventLoop, _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        var descriptors: [Int32] = [-1, -1]
        // Close-on-exec, as NIO's own sockets are: a child process must not inherit the HSM's socket.
        #if os(Linux)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &descriptors) == 0 else {
            return loop.makeFailedFuture(IOError(errnoCode: errno, reason: "socketpair"))
        }
        let (client, served) = (descriptors[0], descriptors[1])
        return ClientBootstrap(group: loop)
            .channelOption(.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            .channelInitializer { [self] channel in channel.eventLoop.makeCompletedFuture { try serve(channel) } }
            .withConnectedSocket(served)
            .flatMapError { error in
                close(client)
                return loop.makeFailedFuture(error)
            }
            .flatMap { servedChannel in
                // Refused admission closes the served end at once: the caller's end is no connection.
                guard servedChannel.isActive else {
                    close(client)
                    return loop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return ClientBootstrap(group: loop).channelInitializer(initializer).withConnectedSocket(client)
                    .flatMapError { error in
                        servedChannel.close(promise: nil)
                        return loop.makeFailedFuture(error)
                    }
            }
    }

    /// Admits an accepted (or in-process) connection and sets up its pipeline.
    private func serve(_ channel: any Channel) throws {
        let address = channel.remoteAddress?.ipAddress ?? "local"
        let (admission, evicted) = connections.withLockedValue { state in
            let admission = state.table.admit(address: address)
            guard case .admitted(let id, let evicting) = admission else {
                return (admission, (any Channel)?.none)
            }
            state.channels[id] = channel
            return (admission, evicting.flatMap { state.channels.removeValue(forKey: $0) })
        }
        evicted?.close(promise: nil)
        guard case .admitted(let id, _) = admission else {
            logger.notice("refused a connection: every place is held by an authenticated one")
            channel.close(promise: nil)
            return
        }
        let grace = channel.eventLoop.scheduleTask(in: unauthenticatedGrace) { [self] in
            if connections.withLockedValue({ $0.table.isWaiting(id) }) { channel.close(promise: nil) }
        }
        channel.closeFuture.whenComplete { [self] _ in
            grace.cancel()
            connections.withLockedValue { state in
                state.table.remove(id)
                state.channels[id] = nil
            }
        }
        // A connection with no frame for this long is gone (a host that crashed or was cut
        // off); hosts' pools send a health check every 30 s on theirs.
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleLimit))
        try channel.pipeline.syncOperations.addHandler(CloseOnIdle())
        try channel.pipeline.syncOperations.addHandler(BackpressureHandler())
        try channel.pipeline.syncOperations.addHandler(FrameWatchdog(limit: frameTimeout))
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        try channel.pipeline.syncOperations.addHandler(HSMConnectionHandler(server: self, connection: id))
    }

    /// Marks connection `id` as authenticated: it keeps its place while it stays open and active, unless
    /// authenticated connections would crowd out newcomers (``ConnectionTable/authenticate(_:)``).
    func authenticate(_ id: UInt64) {
        let evicted = connections.withLockedValue { state in
            state.table.authenticate(id).flatMap { state.channels.removeValue(forKey: $0) }
        }
        evicted?.close(promise: nil)
    }

    /// Whether answering `request` with `answer` showed the peer to be a host of the domain: an accepted
    /// SignedInit or a session request that opened under its session key. Commands and tokens do not
    /// count: anyone can relay a token another HSM hands out, and operators and relays connect briefly.
    static func authenticates(_ request: Envelope, _ answer: Envelope) -> Bool {
        switch (request.body, answer.body) {
        case (.sessionInit, .accept), (.sessionRequest, .sessionResponse): true
        default: false
        }
    }

    /// Decodes one frame body and answers it.
    func answer(_ frame: InboundFrame) -> Envelope { answerAndAuthenticate(frame).answer }

    /// Decodes one frame body and answers it; `authenticated` when the exchange authenticates the peer.
    func answerAndAuthenticate(_ frame: InboundFrame) -> (answer: Envelope, authenticated: Bool) {
        let bytes: [UInt8]
        switch frame {
        case .empty:
            return (Envelope(id: 0, body: .failure(Failure(.malformed, "an empty frame"))), false)
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
            return (
                Envelope(id: Envelope.peekID(bytes) ?? 0, body: .failure(Failure(code, "\(error.reason.rawValue)"))),
                false
            )
        }
        guard envelope.body.isRequest else {
            return (
                Envelope(id: envelope.id, body: .failure(Failure(.malformed, "an answer kind sent as a request"))),
                false
            )
        }
        if case .identify = envelope.body {
            // Signed outside the lock: strangers' identify requests must not hold up hosts' session requests.
            let answer = HSMCore.identify(envelope, source: core.withLockedValue { $0.identitySource })
            log(envelope, answer)
            return (answer, false)
        }
        let now = clock()
        var proof: HSMCore.Proof?
        if envelope.body.mayBePreverified, WireLimits.requestIDRange.contains(envelope.id),
            let preverification = core.withLockedValue({ $0.preverification(for: envelope.body, now: now) })
        {
            // A session's Sig1, a command's approvals and a domain token's signatures and key agreement, for
            // the same reason: anyone who reaches the socket can send any of them. Verified against the state
            // read here; if another request changes it before the lock is taken again, the core does not use
            // the proof and verifies again.
            switch HSMCore.preverify(preverification) {
            case .success(let verified):
                proof = verified
            case .failure(let failure):
                let answer = Envelope(id: envelope.id, body: .failure(failure))
                log(envelope, answer)
                return (answer, false)
            }
        }
        var random = SystemRandom()
        let (answer, effect) = core.withLockedValue {
            $0.handle(envelope, now: now, random: &random, proof: proof)
        }
        log(envelope, answer)
        if case .restartedWithNewIdentity(let hsmID) = effect {
            logger.notice(
                "left the domain and wiped every key; started over with a new identity", metadata: ["hsmID": "\(hsmID)"]
            )
        }
        return (answer, Self.authenticates(envelope, answer))
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
        case .recover: kind = "domain.recover"
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

/// One connection: each frame in, one answer out, flushed when the read that brought the frames is done.
/// An oversized frame length is an error from the decoder, and the connection is closed without an answer
/// (PROTOCOL §7), the answers to the frames before it flushed first (what the socket does not take at
/// once is dropped with the connection, as before).
final class HSMConnectionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private let server: HSMServer
    private let connection: UInt64

    init(server: HSMServer, connection: UInt64) {
        self.server = server
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let (answer, authenticated) = server.answerAndAuthenticate(unwrapInboundIn(data))
        if authenticated { server.authenticate(connection) }
        context.write(wrapOutboundOut(ByteBuffer(bytes: answer.derBytes)), promise: nil)
    }

    /// The answers to every frame of one read leave together.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.flush()
        context.close(promise: nil)
    }
}

/// Closes a connection when ``IdleStateHandler`` reports that nothing was read for ``HSMServer/idleLimit``.
final class CloseOnIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension Envelope.Body {
    /// A session's init, a command or a domain token: the only requests ``HSMCore/preverification(for:now:)``
    /// may ask to verify. A filter that spares every other request (a session request above all) a second
    /// turn of the core's lock; what is verified, and how, the core decides.
    fileprivate var mayBePreverified: Bool {
        switch self {
        case .sessionInit, .command, .applyToken: true
        default: false
        }
    }
}
