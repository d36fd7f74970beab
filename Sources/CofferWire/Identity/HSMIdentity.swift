import CofferCrypto
import SwiftASN1

/// `HSMIdentity` (PROTOCOL §3): who an HSM is, signed by its identity key in ``SignedIdentity``.
///
/// `domainID` and `epoch` are present exactly when the state is operational; the 16-byte challenge is
/// the requester's, echoed so a recorded identity is useless later.
public struct HSMIdentity: DERMessage, Hashable {
    /// The HSM's state as it reports it.
    public enum State: Int64, Sendable, CaseIterable {
        /// Not a member of any domain yet.
        case uninitialized = 0
        /// A member of `domainID` at `epoch`.
        case operational = 1
    }

    /// Lowercase hex of the first 16 bytes of `H(signingKey)`.
    public let hsmID: String
    /// The HSM's identity signing key.
    public let signingKey: P384PublicKey
    /// The HSM's agreement key (one-pass ECDH recipient of domain tokens, §6).
    public let agreementKey: P384PublicKey
    /// Uninitialized or operational.
    public let state: State
    /// The domain, when operational.
    public let domainID: [UInt8]?
    /// The domain epoch, when operational.
    public let epoch: Int64?
    /// The requester's challenge.
    public let challenge: [UInt8]
    /// The DER, exactly as received or as encoded once.
    public let derBytes: [UInt8]

    /// Builds an identity; `domainID` and `epoch` must be given exactly when `state` is operational.
    public init(
        hsmID: String, signingKey: P384PublicKey, agreementKey: P384PublicKey, state: State,
        domainID: [UInt8]? = nil, epoch: Int64? = nil, challenge: [UInt8]
    ) {
        self.hsmID = hsmID
        self.signingKey = signingKey
        self.agreementKey = agreementKey
        self.state = state
        self.domainID = domainID
        self.epoch = epoch
        self.challenge = challenge
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendUTF8(hsmID)
            c.appendOctets(signingKey.spki)
            c.appendOctets(agreementKey.spki)
            c.appendEnumerated(state.rawValue)
            if let domainID { c.appendOctets(domainID, identifier: .context(0)) }
            if let epoch { c.appendInteger(epoch, identifier: .context(1)) }
            c.appendOctets(challenge)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "HSMIdentity")
        hsmID = try r.hsmID("hsmID")
        signingKey = try r.publicKey("signingKey")
        agreementKey = try r.publicKey("agreementKey")
        state = try r.enumerated("state", as: State.self)
        domainID = try r.optionalContext(0).map { n throws(WireError) in
            try DERReader.octets(n, "HSMIdentity.domainID", count(WireLimits.domainIDLength), .context(0))
        }
        epoch = try r.optionalContext(1).map { n throws(WireError) in
            try DERReader.integer(n, "HSMIdentity.epoch", WireLimits.idRange, identifier: .context(1))
        }
        challenge = try r.octets("challenge", count: WireLimits.challengeLength)
        try r.end()
        let operational = state == .operational
        guard (domainID != nil) == operational, (epoch != nil) == operational else {
            throw WireError(.badIdentity, "domainID and epoch are present exactly when the state is operational")
        }
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }
}

/// `SignedIdentity ::= SEQUENCE { identity HSMIdentity, signature }` with
/// `signature = Sign(dHSK, "coffer hsm identity v1", DER(identity))` (§3).
public struct SignedIdentity: DERMessage, Hashable {
    /// The identity.
    public let identity: HSMIdentity
    /// The HSM's signature over `identity.derBytes`.
    public let signature: [UInt8]

    /// Pairs an identity with its signature.
    public init(identity: HSMIdentity, signature: [UInt8]) {
        self.identity = identity
        self.signature = signature
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SignedIdentity")
        identity = try HSMIdentity(node: try r.node("identity"))
        signature = try r.signature()
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(identity)
            c.appendOctets(signature)
        }
    }

    /// Whether the signature verifies with the identity's own signing key.
    public var isSelfSigned: Bool {
        Signing.isValid(signature, over: identity.derBytes, label: .hsmIdentity, by: identity.signingKey)
    }
}

func count(_ n: Int) -> ClosedRange<Int> { n...n }

extension DERReader {
    /// An OCTET STRING under an IMPLICIT tag.
    static func octets(
        _ node: ASN1Node, _ what: String, _ sizes: ClosedRange<Int>, _ identifier: ASN1Identifier
    ) throws(WireError) -> [UInt8] {
        let content = try primitive(node, what, identifier)
        try checkSize(content.count, sizes, what)
        return Array(content)
    }
}
