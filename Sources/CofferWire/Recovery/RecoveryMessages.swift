import CofferCrypto
import SwiftASN1

/// `ShareHeader` (docs/protocol.md, "Recovery"): the public part of one Shamir share of a recovery
/// member's agreement private key, and the key it is sealed to.
///
/// ```
/// ShareHeader ::= SEQUENCE { version INTEGER (1), member UTF8String, memberKey OCTET STRING,
///                            threshold INTEGER (2..255), count INTEGER (2..255), x INTEGER (1..255),
///                            recipient OCTET STRING }
/// ```
/// `member` and `memberKey` name the kit (the recovery member's hsmID and agreement key); `recipient` is
/// the SPKI of the custodian's key or of the HSM's agreement key the share is sealed to.
public struct ShareHeader: DERMessage, Hashable {
    /// The only version.
    public static let version: Int64 = 1

    /// The recovery member's hsmID.
    public let member: String
    /// The recovery member's agreement key (`QHAK` of the split private key).
    public let memberKey: P384PublicKey
    /// How many shares open the key.
    public let threshold: Int
    /// How many shares the kit has.
    public let count: Int
    /// This share's x coordinate (1 … count).
    public let x: Int
    /// The key the share is sealed to.
    public let recipient: P384PublicKey

    /// Builds a header; ranges are the caller's to respect (the parser enforces them).
    public init(member: String, memberKey: P384PublicKey, threshold: Int, count: Int, x: Int, recipient: P384PublicKey)
    {
        self.member = member
        self.memberKey = memberKey
        self.threshold = threshold
        self.count = count
        self.x = x
        self.recipient = recipient
    }

    /// The same share, sealed to another key.
    public func resealed(to recipient: P384PublicKey) -> ShareHeader {
        ShareHeader(
            member: member, memberKey: memberKey, threshold: threshold, count: count, x: x, recipient: recipient)
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "ShareHeader")
        let version = try r.integer("version", Int64.min...Int64.max)
        guard version == Self.version else {
            throw WireError(.unknownVersion, "ShareHeader.version = \(version)", code: .unsupported)
        }
        member = try r.hsmID("member")
        memberKey = try r.publicKey("memberKey")
        threshold = try r.int("threshold", WireLimits.shareThreshold)
        count = try r.int("count", WireLimits.shareThreshold)
        x = try r.int("x", WireLimits.shareIndex)
        recipient = try r.publicKey("recipient")
        try r.end()
        guard threshold <= count, x <= count else {
            throw WireError(.outOfRange, "ShareHeader: threshold \(threshold), count \(count), x \(x)")
        }
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendInteger(Self.version)
            c.appendUTF8(member)
            c.appendOctets(memberKey.spki)
            c.appendInteger(threshold)
            c.appendInteger(count)
            c.appendInteger(x)
            c.appendOctets(recipient.spki)
        }
    }
}

/// `SealedShare ::= SEQUENCE { header ShareHeader, ephemeralKey OCTET STRING, sealed OCTET STRING }`:
/// one share sealed to `header.recipient` by one-pass ECDH (label `coffer recovery share v1`).
public struct SealedShare: DERMessage, Hashable {
    /// What the share is and whom it is sealed to.
    public let header: ShareHeader
    /// The sender's ephemeral key `Qe`.
    public let ephemeralKey: P384PublicKey
    /// `Seal(K, y, DER(header))`: the share's 48 y bytes.
    public let sealed: [UInt8]

    /// Builds a sealed share.
    public init(header: ShareHeader, ephemeralKey: P384PublicKey, sealed: [UInt8]) {
        self.header = header
        self.ephemeralKey = ephemeralKey
        self.sealed = sealed
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SealedShare")
        header = try ShareHeader(node: try r.node("header"))
        ephemeralKey = try r.publicKey("ephemeralKey")
        sealed = try r.octets("sealed", count: WireLimits.sealedShareLength)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(header)
            c.appendOctets(ephemeralKey.spki)
            c.appendOctets(sealed)
        }
    }
}

/// `DomainRecover ::= SEQUENCE { anchor OCTET STRING (48), member SignedIdentity }`: the arguments of
/// `domain.recover`. `anchor` pins the digest of the first state of the chain the request carries (the
/// genesis by default); `member` is the recovering HSM, which becomes the state's one online member.
public struct DomainRecover: DERMessage, Hashable {
    /// The digest of the chain's first state.
    public let anchor: [UInt8]
    /// The recovering HSM's signed identity (state uninitialized).
    public let member: SignedIdentity

    /// Builds the arguments.
    public init(anchor: [UInt8], member: SignedIdentity) {
        self.anchor = anchor
        self.member = member
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "DomainRecover")
        anchor = try r.octets("anchor", count: WireLimits.digestLength)
        member = try SignedIdentity(node: try r.node("member"))
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendOctets(anchor)
            c.append(member)
        }
    }
}

/// `RecoverRequest ::= SEQUENCE { command SignedCommand, chain SEQUENCE SIZE (1..1024) OF DomainToken,
/// shares SEQUENCE SIZE (1..255) OF SealedShare }` (Envelope body `recover [7]`).
///
/// The chain and the shares travel beside the signed command, not inside it, so the token the recovery
/// produces carries neither: tokens do not nest or grow with each recovery, and the shares (sealed to
/// this HSM) are never stored with the public chain.
public struct RecoverRequest: DERMessage, Hashable {
    /// The quorum-signed `domain.recover`.
    public let command: SignedCommand
    /// Consecutive tokens from the state `anchor` pins to the command's base.
    public let chain: [DomainToken]
    /// At least `threshold` shares of one kit, sealed to the recovering HSM's agreement key; sorted by x.
    public let shares: [SealedShare]

    /// Builds a request; shares are sorted here.
    public init(command: SignedCommand, chain: [DomainToken], shares: [SealedShare]) {
        self.command = command
        self.chain = chain
        self.shares = shares.sorted { $0.header.x < $1.header.x }
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "RecoverRequest")
        command = try SignedCommand(node: try r.node("command"))
        chain = try r.sequence("chain", DomainToken.init(node:))
        shares = try r.sequence("shares", maximum: WireLimits.sharesMaximum, SealedShare.init(node:))
        try r.end()
        guard !chain.isEmpty else { throw WireError(.outOfRange, "RecoverRequest.chain is empty") }
        guard !shares.isEmpty else {
            throw WireError(.outOfRange, "RecoverRequest.shares: \(shares.count)")
        }
        let xs = shares.map(\.header.x)
        guard zip(xs, xs.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw WireError(.unsorted, "RecoverRequest.shares are not sorted by x, or repeat one")
        }
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(command)
            c.appendSequence(of: chain) { $0.append($1) }
            c.appendSequence(of: shares) { $0.append($1) }
        }
    }
}
