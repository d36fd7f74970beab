import NIOCore
import NIOHTTPTypes

/// Bounds how long a connection may hold the KMS endpoint without doing its share (issue 13: slow and
/// idle connections used to pile up without bound). The clock runs in absolute time, not inactivity,
/// so a client that trickles one byte at a time is cut as surely as one that sends nothing:
/// - between requests (from accept, or from the end of the last response) the next request's head must
///   arrive within ``HTTPLimits/idleTimeout`` — a header sent a byte at a time never completes a head;
/// - a request's body must be complete within ``HTTPLimits/readTimeout`` of its head;
/// - a request must be answered within ``HTTPLimits/idleTimeout`` of its end (a client that never reads
///   its answers cannot hold a place for ever);
/// - every connection holds a place in the endpoint's ``ConnectionPlaces``: busy while a complete request
///   is unanswered and the answer is being written, waiting otherwise; a newcomer past the limit displaces
///   a waiting connection (``ConnectionRoster``).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HTTPLimits
    private let places: ConnectionPlaces
    /// The timer, and when it fires.
    private var deadline: (task: Scheduled<Void>, firesAt: NIODeadline)?
    /// When the connection is closed unless it does its share first.
    private var closesAt: NIODeadline?
    private var place: UInt64?
    private var admitted = false
    /// A request's head has arrived and its end has not.
    private var reading = false
    /// Requests received whole, and responses ended. An answer may end before its request does (a 404 or a
    /// 413 sent while the body still arrives), so busy is "more requests complete than answers ended".
    private var requestsComplete = 0
    private var responsesEnded = 0
    private var busy: Bool { requestsComplete > responsesEnded }

    init(limits: HTTPLimits, places: ConnectionPlaces) {
        self.limits = limits
        self.places = places
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard !admitted else { return }
        admitted = true
        place = places.admit(context.channel)
        guard place != nil else {
            context.close(promise: nil)
            return
        }
        arm(context, after: limits.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.task.cancel()
        deadline = nil
        closesAt = nil
        release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.task.cancel()
        deadline = nil
        closesAt = nil
        release()
        context.fireChannelInactive()
    }

    private func release() {
        if let place { places.remove(place) }
        place = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            reading = true
            arm(context, after: limits.readTimeout)
        case .body: break
        case .end:
            reading = false
            requestsComplete += 1
            if busy {
                // Its place cannot be taken while it is answered, unless another event loop displaced it a
                // moment ago: then the request is not handed on (nothing runs whose answer would be lost).
                guard let place, places.busy(place) else {
                    context.close(promise: nil)
                    return
                }
                arm(context, after: limits.idleTimeout)
            } else {
                arm(context, after: limits.idleTimeout)  // answered before its body ended
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responsesEnded += 1
            if !busy {
                if let place { places.waiting(place) }
                // A pipelined request still arriving keeps the deadline of its head.
                if !reading { arm(context, after: limits.idleTimeout) }
            }
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its answers: its place may be taken (its answers are its to lose).
        if !context.channel.isWritable, let place { places.waiting(place) }
        context.fireChannelWritabilityChanged()
    }

    /// Sets the connection's deadline to `amount` from now. One timer serves every deadline: it is moved
    /// only when the new deadline is earlier than the one it was set for; when it fires before the current
    /// deadline it sets itself again (a request's parts move the deadline three times, and scheduling a
    /// timer each time showed in the profile).
    private func arm(_ context: ChannelHandlerContext, after amount: TimeAmount) {
        let due = context.eventLoop.now + amount
        closesAt = due
        if let timer = deadline, timer.firesAt <= due { return }
        schedule(context, at: due)
    }

    private func schedule(_ context: ChannelHandlerContext, at due: NIODeadline) {
        deadline?.task.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = (context.eventLoop.scheduleTask(deadline: due) { loopBound.value.0.expire(loopBound.value.1) }, due)
    }

    private func expire(_ context: ChannelHandlerContext) {
        deadline = nil
        guard let closesAt else { return }
        if context.eventLoop.now >= closesAt {
            context.close(promise: nil)
        } else {
            schedule(context, at: closesAt)
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
