import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Bounds how long a connection may hold the KMS endpoint without doing its share (issue 13: slow and
/// idle connections used to pile up without bound). The clock runs in absolute time, not inactivity,
/// so a client that trickles one byte at a time is cut as surely as one that sends nothing:
/// - between requests (from accept, or from the end of the last response) the next request's head must
///   arrive within ``HTTPLimits/idleTimeout`` — a header sent a byte at a time never completes a head;
/// - a request's body must be complete within ``HTTPLimits/readTimeout`` of its head;
/// - every connection holds a place in the endpoint's ``ConnectionPlaces``: busy from the end of its
///   request to the end of its response, waiting otherwise; a newcomer past the limit displaces a waiting
///   connection (``ConnectionRoster``).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HTTPLimits
    private let places: ConnectionPlaces
    private var deadline: Scheduled<Void>?
    private var place: UInt64?
    /// Requests received whole and not yet answered (more than one when a client pipelines).
    private var unanswered = 0

    init(limits: HTTPLimits, places: ConnectionPlaces) {
        self.limits = limits
        self.places = places
    }

    func handlerAdded(context: ChannelHandlerContext) {
        place = places.admit(context.channel)
        if place == nil {
            context.close(promise: nil)
            return
        }
        arm(context, after: limits.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let place { places.remove(place) }
        place = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let place { places.remove(place) }
        place = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, after: limits.readTimeout)
        case .body: break
        case .end:
            // The request is whole: no deadline while it is answered, and its place cannot be taken.
            deadline?.cancel()
            deadline = nil
            unanswered += 1
            if let place { places.busy(place) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 {
                if let place { places.waiting(place) }
                arm(context, after: limits.idleTimeout)
            }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, after amount: TimeAmount) {
        deadline?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: amount) { loopBound.value.close(promise: nil) }
    }
}

/// The endpoint's connection places: a ``ConnectionRoster`` shared by every connection, whichever event
/// loop it runs on, and the channels to close when one is displaced.
public final class ConnectionPlaces: Sendable {
    private let state: NIOLockedValueBox<(roster: ConnectionRoster, channels: [UInt64: any Channel])>

    /// Places for `maximumConnections` connections.
    public init(maximumConnections: Int) {
        state = NIOLockedValueBox((ConnectionRoster(maximumConnections: maximumConnections), [:]))
    }

    /// Connections held, and of them waiting.
    public var counts: (all: Int, waiting: Int) { state.withLockedValue { $0.roster.counts } }

    /// Admits `channel`, closing the connection it displaces; nil when it is refused.
    func admit(_ channel: any Channel) -> UInt64? {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let now = NIODeadline.now().uptimeNanoseconds
        let (id, displaced): (UInt64?, (any Channel)?) = state.withLockedValue { state in
            guard case .admitted(let id, let displacing) = state.roster.admit(address: address, now: now) else {
                return (nil, nil)
            }
            state.channels[id] = channel
            return (id, displacing.flatMap { state.channels.removeValue(forKey: $0) })
        }
        displaced?.close(promise: nil)
        return id
    }

    func busy(_ id: UInt64) { state.withLockedValue { $0.roster.busy(id) } }

    func waiting(_ id: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        state.withLockedValue { $0.roster.waiting(id, now: now) }
    }

    func remove(_ id: UInt64) {
        state.withLockedValue { state in
            state.roster.remove(id)
            state.channels[id] = nil
        }
    }
}

/// The HTTP limits of a service host (documented in docs/deployment.md).
public struct HTTPLimits: Sendable {
    /// How long a connection may wait for its next request's head (and hold a place doing nothing).
    public var idleTimeout: TimeAmount
    /// How long a request's body may take after its head.
    public var readTimeout: TimeAmount
    /// Connections held at once; a newcomer past this displaces the connection that has waited longest
    /// for its next request (of the peer address with the most such connections), or is closed when every
    /// connection is busy answering a request (``ConnectionRoster``).
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
