import CofferCrypto
import SwiftASN1

/// `Envelope ::= SEQUENCE { version INTEGER (1), id INTEGER, body CHOICE { … } }` (PROTOCOL §7): every
/// message on the HSM socket, inside a 4-byte length frame. The requester chooses `id` (1 … 2^63−1)
/// and the answer echoes it, so requests pipeline and answers may come in any order.
public struct Envelope: DERMessage, Hashable {
    /// The only version. Another version is refused with code `unsupported`.
    public static let version: Int64 = 1

    /// The request or answer id (0 only for answers to frames whose id could not be read).
    public let id: Int64
    /// The body.
    public let body: Body

    /// The body CHOICE, EXPLICIT alternatives.
    public enum Body: Hashable, Sendable {
        /// `[0]` the one unauthenticated call: a fresh 16-byte challenge.
        case identify(challenge: [UInt8])
        /// `[1]` a quorum-signed command.
        case command(SignedCommand)
        /// `[2]` a token another member produced.
        case applyToken(DomainToken)
        /// `[3]` a host's session offer.
        case sessionInit(SignedInit)
        /// `[4]` a request inside a session.
        case sessionRequest(SessionRequest)
        /// `[5]` asks for the HSM's current token.
        case currentToken
        /// `[7]` `domain.recover` with the chain and the shares (docs/protocol.md, "Recovery"). Not `[6]`: the
        /// reference vectors (protocol.json tcId 14) use `[6]` as the example of an unknown body.
        case recover(RecoverRequest)
        /// `[16]` answers identify.
        case identity(SignedIdentity)
        /// `[17]` answers command, applyToken, currentToken.
        case token(DomainToken)
        /// `[19]` answers sessionInit.
        case accept(SignedAccept)
        /// `[20]` answers sessionRequest.
        case sessionResponse(SessionResponse)
        /// `[31]` any refusal.
        case failure(Failure)

        /// The alternative's tag number.
        public var tag: UInt {
            switch self {
            case .identify: 0
            case .command: 1
            case .applyToken: 2
            case .sessionInit: 3
            case .sessionRequest: 4
            case .currentToken: 5
            case .recover: 7
            case .identity: 16
            case .token: 17
            case .accept: 19
            case .sessionResponse: 20
            case .failure: 31
            }
        }

        /// Whether this kind is sent by a requester (the others are answers).
        public var isRequest: Bool { tag <= 7 }
    }

    /// Builds an envelope.
    public init(id: Int64, body: Body) {
        self.id = id
        self.body = body
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Envelope")
        let version = try r.integer("version", Int64.min...Int64.max)
        guard version == Self.version else {
            throw WireError(.unknownVersion, "Envelope.version = \(version)", code: .unsupported)
        }
        id = try r.integer("id", WireLimits.idRange)
        let bodyNode = try r.node("body")
        try r.end()
        let identifier = bodyNode.identifier
        let tag = identifier.tagNumber
        guard identifier.tagClass == .contextSpecific, [0, 1, 2, 3, 4, 5, 7, 16, 17, 19, 20, 31].contains(tag) else {
            throw WireError(.unknownBody, "Envelope body \(identifier)")
        }
        let what = "Envelope.body[\(tag)]"
        let inner = try DERReader.explicitContent(bodyNode, what)
        switch tag {
        case 0:
            body = .identify(challenge: try DERReader.octets(inner, what, count(WireLimits.challengeLength)))
        case 1: body = .command(try SignedCommand(node: inner))
        case 2: body = .applyToken(try DomainToken(node: inner))
        case 3: body = .sessionInit(try SignedInit(node: inner))
        case 4: body = .sessionRequest(try SessionRequest(node: inner))
        case 5:
            try DERReader.null(inner, what)
            body = .currentToken
        case 7: body = .recover(try RecoverRequest(node: inner))
        case 16: body = .identity(try SignedIdentity(node: inner))
        case 17: body = .token(try DomainToken(node: inner))
        case 19: body = .accept(try SignedAccept(node: inner))
        case 20: body = .sessionResponse(try SessionResponse(node: inner))
        default: body = .failure(try Failure(node: inner))
        }
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendInteger(Self.version)
            c.appendInteger(id)
            c.appendExplicit(body.tag) { c in
                switch body {
                case .identify(let challenge): c.appendOctets(challenge)
                case .command(let command): c.append(command)
                case .applyToken(let token), .token(let token): c.append(token)
                case .sessionInit(let signedInit): c.append(signedInit)
                case .sessionRequest(let request): c.append(request)
                case .currentToken: c.appendNull()
                case .recover(let request): c.append(request)
                case .identity(let identity): c.append(identity)
                case .accept(let accept): c.append(accept)
                case .sessionResponse(let response): c.append(response)
                case .failure(let failure): c.append(failure)
                }
            }
        }
    }

    /// The id of a frame that failed to decode, so the failure can echo it (§7): the second field of
    /// an outer SEQUENCE when it is an INTEGER in 1 … 2^63−1; otherwise nil (answer with id 0).
    public static func peekID(_ frame: some Collection<UInt8>) -> Int64? {
        guard let node = try? DER.parse(Array(frame)), node.identifier == .sequence,
            case .constructed(let children) = node.content
        else { return nil }
        var iterator = children.makeIterator()
        _ = iterator.next()
        guard let idNode = iterator.next() else { return nil }
        return try? DERReader.integer(idNode, "Envelope.id", WireLimits.requestIDRange)
    }

    /// The frame for this envelope: `uint32be(length) ‖ DER`.
    public var frame: [UInt8] {
        let der = derBytes
        return BigEndianFrame.prefix(der.count) + der
    }
}

/// The 4-byte big-endian length prefix of a frame.
enum BigEndianFrame {
    static func prefix(_ length: Int) -> [UInt8] { BigEndian.uint32(UInt32(truncatingIfNeeded: length)) }
}
