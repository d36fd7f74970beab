import CofferCrypto
import SwiftASN1

/// `SessionRequest ::= SEQUENCE { ekt, requestID, sealed }` (PROTOCOL §7), with
/// `sealed = Seal(SK, DER(SessionCommand), requestAAD)`.
public struct SessionRequest: DERMessage, Hashable {
    /// The session token: any online member can open it.
    public let ekt: ExportedKeyToken
    /// 1 … 2^63−1, unique per session (anti-replay window of 1024).
    public let requestID: Int64
    /// The sealed command.
    public let sealed: [UInt8]

    /// Builds a request.
    public init(ekt: ExportedKeyToken, requestID: Int64, sealed: [UInt8]) {
        self.ekt = ekt
        self.requestID = requestID
        self.sealed = sealed
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SessionRequest")
        ekt = try ExportedKeyToken(node: try r.node("ekt"))
        requestID = try r.integer("requestID", WireLimits.requestIDRange)
        sealed = try r.octets("sealed")
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(ekt)
            c.appendInteger(requestID)
            c.appendOctets(sealed)
        }
    }

    /// `"coffer request v1" ‖ H(DER(ekt)) ‖ uint64be(requestID)`.
    public static func aad(ektDigest: [UInt8], requestID: Int64) -> [UInt8] {
        SessionAAD.bytes(.request, ektDigest: ektDigest, requestID: requestID)
    }
}

/// `SessionResponse ::= SEQUENCE { requestID, sealed }`, `sealed = Seal(SK, DER(SessionResult), responseAAD)`.
public struct SessionResponse: DERMessage, Hashable {
    /// The request's id.
    public let requestID: Int64
    /// The sealed result.
    public let sealed: [UInt8]

    /// Builds a response.
    public init(requestID: Int64, sealed: [UInt8]) {
        self.requestID = requestID
        self.sealed = sealed
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SessionResponse")
        requestID = try r.integer("requestID", WireLimits.requestIDRange)
        sealed = try r.octets("sealed")
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendInteger(requestID)
            c.appendOctets(sealed)
        }
    }

    /// `"coffer response v1" ‖ H(DER(ekt)) ‖ uint64be(requestID)`.
    public static func aad(ektDigest: [UInt8], requestID: Int64) -> [UInt8] {
        SessionAAD.bytes(.response, ektDigest: ektDigest, requestID: requestID)
    }
}
