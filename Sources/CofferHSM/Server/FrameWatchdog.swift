import CofferWire
import NIOCore

/// Closes a connection that stays inside one frame for 30 s (PROTOCOL §7), so a peer cannot hold a
/// connection and a partial-frame buffer open by sending a frame slowly or never finishing it.
///
/// It sits before the frame decoder and follows the frame boundaries in the byte stream itself (the
/// 4-byte prefix, then that many bytes), arming a timer when a frame starts and cancelling it when the
/// frame is complete. An oversized length is left to the decoder, which closes the connection.
final class FrameWatchdog: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// How long a frame may take to arrive.
    static let limit: TimeAmount = .seconds(30)

    private let limit: TimeAmount
    /// Bytes of the current frame's prefix seen so far (0 … 3), and its length once known.
    private var prefix: [UInt8] = []
    private var remaining = 0
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount = FrameWatchdog.limit) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var view = buffer.readableBytesView[...]
        while !view.isEmpty {
            if remaining > 0 {
                let taken = min(remaining, view.count)
                remaining -= taken
                view = view.dropFirst(taken)
            } else {
                prefix.append(view.removeFirst())
                if prefix.count == FrameParser.prefixLength {
                    remaining = prefix.reduce(0) { $0 << 8 | Int($1) }
                    prefix.removeAll(keepingCapacity: true)
                    if remaining > WireLimits.frameBytes.upperBound { remaining = 0 }  // the decoder closes
                }
            }
        }
        let inside = remaining > 0 || !prefix.isEmpty
        if inside, timer == nil {
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
        } else if !inside {
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

/// Stops reading from a peer that does not read its answers (PROTOCOL §7 bounds a frame; this bounds
/// the bytes of answers waiting to be sent): reading resumes when the write buffer drains.
final class BackpressureHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let channel = context.channel
        channel.setOption(.autoRead, value: channel.isWritable).whenFailure { _ in channel.close(promise: nil) }
        context.fireChannelWritabilityChanged()
    }
}
