import NIOCore
import NIOHTTPTypes

/// Bounds how long a connection may hold the KMS endpoint without doing its share (issue 13: slow and
/// idle connections used to pile up without bound). The clock runs in absolute time, not inactivity,
/// so a client that trickles one byte at a time is cut as surely as one that sends nothing:
/// - between requests (from accept, or from the end of the last request) the next request's head must
///   arrive within ``HTTPLimits/idleTimeout`` — a header sent a byte at a time never completes a head;
/// - a request's body must be complete within ``HTTPLimits/readTimeout`` of its head.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limits: HTTPLimits
    private var deadline: Scheduled<Void>?

    init(limits: HTTPLimits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, after: limits.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, after: limits.readTimeout)
        case .body: break
        case .end: arm(context, after: limits.idleTimeout)
        }
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext, after amount: TimeAmount) {
        deadline?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: amount) { loopBound.value.close(promise: nil) }
    }
}

/// The HTTP limits of a service host (documented in docs/deployment.md).
public struct HTTPLimits: Sendable {
    /// How long a connection may wait for its next request's head (and hold a place doing nothing).
    public var idleTimeout: TimeAmount
    /// How long a request's body may take after its head.
    public var readTimeout: TimeAmount
    /// Connections served at once; more wait in the listen backlog until one closes.
    public var maximumConnections: Int

    /// Limits; the defaults suit a host behind a load balancer that reuses connections.
    public init(
        idleTimeout: TimeAmount = .seconds(60), readTimeout: TimeAmount = .seconds(10), maximumConnections: Int = 4096
    ) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.maximumConnections = maximumConnections
    }
}
