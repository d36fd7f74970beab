import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import CofferServer

/// The HTTP connection handler on an embedded channel: its deadlines, and the place it holds in the
/// endpoint's roster as requests and answers pass through it (issue 13).
@Suite struct RequestDeadlineHandlerTests {
    static let limits = HTTPLimits(idleTimeout: .seconds(60), readTimeout: .seconds(10), maximumConnections: 1)
    static let head = HTTPRequestPart.head(HTTPRequest(method: .post, scheme: "http", authority: "kms", path: "/"))
    static let answerHead = HTTPResponsePart.head(HTTPResponse(status: .ok))

    /// A connected channel with the handler, holding a place of `places`.
    static func connection(_ places: ConnectionPlaces, address: String = "10.0.0.1") throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(limits: limits, places: places))
        channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40000)
        // An embedded channel binds nothing; the local address is only a value.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 0)).wait()
        return channel
    }

    @Test func aRequestBeingAnsweredKeepsItsPlaceAndANewcomerIsRefused() throws {
        let places = ConnectionPlaces(maximumConnections: 1)
        let client = try Self.connection(places)
        try client.writeInbound(Self.head)
        try client.writeInbound(HTTPRequestPart.end(nil))
        #expect(places.counts == (all: 1, waiting: 0))
        let newcomer = try Self.connection(places, address: "10.0.0.2")
        #expect(!newcomer.isActive)
        #expect(client.isActive)
        // Answered: it waits again, and the next newcomer takes its place.
        try client.writeOutbound(Self.answerHead)
        try client.writeOutbound(HTTPResponsePart.end(nil))
        #expect(places.counts == (all: 1, waiting: 1))
        let third = try Self.connection(places, address: "10.0.0.3")
        #expect(third.isActive)
        #expect(!client.isActive)
    }

    @Test func anAnswerSentBeforeTheBodyEndsLeavesTheConnectionWaiting() throws {
        // A 404 or 413 answered while the body still arrives: the request's end comes after the answer's,
        // and must not leave the connection busy (and undisplaceable) for ever.
        let places = ConnectionPlaces(maximumConnections: 1)
        let client = try Self.connection(places)
        try client.writeInbound(Self.head)
        try client.writeOutbound(Self.answerHead)
        try client.writeOutbound(HTTPResponsePart.end(nil))
        try client.writeInbound(HTTPRequestPart.end(nil))
        #expect(places.counts == (all: 1, waiting: 1))
        // And the idle deadline runs.
        client.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(!client.isActive)
        #expect(places.counts == (all: 0, waiting: 0))
    }

    @Test func deadlines() throws {
        let places = ConnectionPlaces(maximumConnections: 8)
        // Nothing sent: closed at the idle timeout.
        let idle = try Self.connection(places)
        idle.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(idle.isActive)
        idle.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!idle.isActive)
        // A head and a body that never ends: closed at the read timeout.
        let slow = try Self.connection(places)
        try slow.writeInbound(Self.head)
        slow.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!slow.isActive)
        // A request never answered (a client that does not read): closed at the idle timeout after its end.
        let stalled = try Self.connection(places)
        try stalled.writeInbound(Self.head)
        try stalled.writeInbound(HTTPRequestPart.end(nil))
        stalled.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(stalled.isActive)
        stalled.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!stalled.isActive)
        #expect(places.counts == (all: 0, waiting: 0))
    }

    @Test func aPipelinedRequestStillArrivingKeepsItsReadDeadline() throws {
        let places = ConnectionPlaces(maximumConnections: 1)
        let client = try Self.connection(places)
        try client.writeInbound(Self.head)
        try client.writeInbound(HTTPRequestPart.end(nil))
        try client.writeInbound(Self.head)  // the second request's body never ends
        try client.writeOutbound(Self.answerHead)
        try client.writeOutbound(HTTPResponsePart.end(nil))
        client.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!client.isActive)
    }
}
