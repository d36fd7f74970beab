import CofferCrypto
import SwiftASN1

/// `SessionInit` (PROTOCOL §7): a host's offer of an ephemeral key, signed in ``SignedInit``.
public struct SessionInit: DERMessage, Hashable {
    /// 16 bytes.
    public let domainID: [UInt8]
    /// The epoch of the host's verified state.
    public let epoch: Int64
    /// The host's id in the domain state.
    public let hostID: String
    /// `Q1`.
    public let ephemeralKey: P384PublicKey
    /// The host's clock.
    public let time: WireTime
    /// 16 random bytes.
    public let nonce: [UInt8]
    /// The DER, exactly as received or as encoded once: what `Sig1` signs.
    public let derBytes: [UInt8]

    /// Builds an init.
    public init(
        domainID: [UInt8], epoch: Int64, hostID: String, ephemeralKey: P384PublicKey, time: WireTime, nonce: [UInt8]
    ) {
        self.domainID = domainID
        self.epoch = epoch
        self.hostID = hostID
        self.ephemeralKey = ephemeralKey
        self.time = time
        self.nonce = nonce
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendOctets(domainID)
            c.appendInteger(epoch)
            c.appendUTF8(hostID)
            c.appendOctets(ephemeralKey.spki)
            c.appendTime(time)
            c.appendOctets(nonce)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SessionInit")
        domainID = try r.octets("domainID", count: WireLimits.domainIDLength)
        epoch = try r.integer("epoch", WireLimits.idRange)
        hostID = try r.name("hostID")
        ephemeralKey = try r.publicKey("ephemeralKey")
        time = try r.time("time")
        nonce = try r.octets("nonce", count: WireLimits.keyIDLength)
        try r.end()
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }
}

/// `SignedInit ::= SEQUENCE { init SessionInit, signature }`, `Sig1 = Sign(dHOS, "coffer session init v1", DER(init))`.
public struct SignedInit: DERMessage, Hashable {
    /// The init.
    public let initMessage: SessionInit
    /// `Sig1`.
    public let signature: [UInt8]
    /// The DER, exactly as received or as encoded once.
    public let derBytes: [UInt8]

    /// Pairs an init with `Sig1`.
    public init(initMessage: SessionInit, signature: [UInt8]) {
        self.initMessage = initMessage
        self.signature = signature
        var coder = DERWriter()
        coder.appendSequence { c in
            c.append(initMessage)
            c.appendOctets(signature)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SignedInit")
        initMessage = try SessionInit(node: try r.node("init"))
        signature = try r.signature()
        try r.end()
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }

    /// `initDigest = H(DER(SignedInit))`: binds the HSM's answer to this exact offer.
    public var digest: [UInt8] { Hash.h(derBytes) }
}

/// `SessionAccept` (§7): the HSM's ephemeral key, the session key under `Kneg` (`esk`), and the
/// session key under the domain key (`ekt`).
public struct SessionAccept: DERMessage, Hashable {
    /// The accepting HSM.
    public let hsmID: String
    /// `Q2`.
    public let ephemeralKey: P384PublicKey
    /// `H(DER(SignedInit))`.
    public let initDigest: [UInt8]
    /// `Seal(Kneg, SK, initDigest)`, 60 bytes.
    public let esk: [UInt8]
    /// `SK` under the active domain key, kind session.
    public let ekt: ExportedKeyToken
    /// The DER, exactly as received or as encoded once: what `Sig2` signs.
    public let derBytes: [UInt8]

    /// Builds an accept.
    public init(
        hsmID: String, ephemeralKey: P384PublicKey, initDigest: [UInt8], esk: [UInt8], ekt: ExportedKeyToken
    ) {
        self.hsmID = hsmID
        self.ephemeralKey = ephemeralKey
        self.initDigest = initDigest
        self.esk = esk
        self.ekt = ekt
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendUTF8(hsmID)
            c.appendOctets(ephemeralKey.spki)
            c.appendOctets(initDigest)
            c.appendOctets(esk)
            c.append(ekt)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SessionAccept")
        hsmID = try r.hsmID("hsmID")
        ephemeralKey = try r.publicKey("ephemeralKey")
        initDigest = try r.octets("initDigest", count: WireLimits.digestLength)
        esk = try r.octets("esk", count: WireLimits.sealedKeyLength)
        ekt = try ExportedKeyToken(node: try r.node("ekt"))
        try r.end()
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }
}

/// `SignedAccept ::= SEQUENCE { accept SessionAccept, signature }`, `Sig2 = Sign(dHSK, "coffer session accept v1", DER(accept))`.
public struct SignedAccept: DERMessage, Hashable {
    /// The accept.
    public let accept: SessionAccept
    /// `Sig2`.
    public let signature: [UInt8]

    /// Pairs an accept with `Sig2`.
    public init(accept: SessionAccept, signature: [UInt8]) {
        self.accept = accept
        self.signature = signature
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SignedAccept")
        accept = try SessionAccept(node: try r.node("accept"))
        signature = try r.signature()
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(accept)
            c.appendOctets(signature)
        }
    }
}
