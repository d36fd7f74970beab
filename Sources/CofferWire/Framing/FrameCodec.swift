import NIOCore

/// One frame read from the HSM socket (PROTOCOL §7): `uint32be(n) ‖ n bytes of DER`.
public enum InboundFrame: Sendable, Equatable {
    /// `n` ≥ 1 bytes, not yet parsed (a valid Envelope or not: the caller decides).
    case body(ByteBuffer)
    /// `n` = 0: no Envelope; answered `failure(malformed)` with id 0, and the connection continues.
    case empty
}

/// The framing rule as a pure function over a buffer, shared by the NIO decoder and the fuzz target.
public enum FrameParser {
    /// The length prefix's size.
    public static let prefixLength = 4

    /// Takes the next whole frame off the front of `buffer`, or returns nil when more bytes are needed.
    ///
    /// A length over ``WireLimits/frameBytes`` throws ``WireError/Code/frameTooLarge`` from the four
    /// prefix bytes alone: the body is neither read nor waited for, and the caller closes the connection.
    public static func nextFrame(from buffer: inout ByteBuffer) throws(WireError) -> InboundFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= WireLimits.frameBytes.upperBound else {
            throw WireError(.frameTooLarge, "frame of \(length) bytes", code: .frameTooLarge)
        }
        guard length > 0 else {
            buffer.moveReaderIndex(forwardBy: prefixLength)
            return .empty
        }
        guard buffer.readableBytes >= prefixLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: prefixLength)
        guard let body = buffer.readSlice(length: Int(length)) else { return nil }
        return .body(body)
    }

    /// Appends one frame holding `der` to `buffer`.
    public static func writeFrame(_ der: some Collection<UInt8>, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(truncatingIfNeeded: der.count))
        buffer.writeBytes(der)
    }
}

/// NIO inbound decoder: bytes to ``InboundFrame``s. An oversized length is an error: the pipeline's
/// error handler closes the connection without answering.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = InboundFrame

    /// Creates a decoder.
    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameParser.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// NIO outbound encoder: one DER message per frame.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ByteBuffer

    /// Creates an encoder.
    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard WireLimits.frameBytes.contains(data.readableBytes) else {
            throw WireError(
                .frameTooLarge, "refusing to send a frame of \(data.readableBytes) bytes", code: .frameTooLarge)
        }
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
