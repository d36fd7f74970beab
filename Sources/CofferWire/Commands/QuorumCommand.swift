import CofferCrypto
import SwiftASN1

/// `QuorumCommand` (PROTOCOL §5): one change to a domain, built against a base state and signed by
/// operators. Executing it moves the domain past `baseEpoch`, which makes the command useless again.
public struct QuorumCommand: DERMessage, Hashable {
    /// 16 bytes.
    public let domainID: [UInt8]
    /// The epoch of the state the command was built against.
    public let baseEpoch: Int64
    /// `H(DER(base state))`, 48 bytes.
    public let baseDigest: [UInt8]
    /// A command name of §5 (`domain.rotateKeys`, …).
    public let command: String
    /// The DER of the command's argument type (``CommandArguments``).
    public let arguments: [UInt8]
    /// Not valid before `issuedAt − clockSkew`.
    public let issuedAt: WireTime
    /// Not valid after this.
    public let expiresAt: WireTime
    /// 16 random bytes: two otherwise equal commands differ.
    public let nonce: [UInt8]
    /// The DER, exactly as received or as encoded once: what every approval signs.
    public let derBytes: [UInt8]

    /// Builds a command.
    public init(
        domainID: [UInt8], baseEpoch: Int64, baseDigest: [UInt8], command: String, arguments: [UInt8],
        issuedAt: WireTime, expiresAt: WireTime, nonce: [UInt8]
    ) {
        self.domainID = domainID
        self.baseEpoch = baseEpoch
        self.baseDigest = baseDigest
        self.command = command
        self.arguments = arguments
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.nonce = nonce
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendOctets(domainID)
            c.appendInteger(baseEpoch)
            c.appendOctets(baseDigest)
            c.appendUTF8(command)
            c.appendOctets(arguments)
            c.appendTime(issuedAt)
            c.appendTime(expiresAt)
            c.appendOctets(nonce)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "QuorumCommand")
        domainID = try r.octets("domainID", count: WireLimits.domainIDLength)
        baseEpoch = try r.integer("baseEpoch", WireLimits.idRange)
        baseDigest = try r.octets("baseDigest", count: WireLimits.digestLength)
        command = try r.name("command")
        arguments = try r.octets("arguments")
        issuedAt = try r.time("issuedAt")
        expiresAt = try r.time("expiresAt")
        nonce = try r.octets("nonce", count: WireLimits.keyIDLength)
        try r.end()
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }
}

/// `Approval ::= SEQUENCE { operatorID, signature }`, the signature being
/// `Sign(dOp, "coffer quorum command v1", DER(command))`.
public struct Approval: DERMessage, Hashable {
    /// The approving operator's id.
    public let operatorID: String
    /// The DER signature.
    public let signature: [UInt8]

    /// Builds an approval.
    public init(operatorID: String, signature: [UInt8]) {
        self.operatorID = operatorID
        self.signature = signature
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Approval")
        operatorID = try r.name("operatorID")
        signature = try r.signature()
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(operatorID)
            c.appendOctets(signature)
        }
    }
}

/// `SignedCommand ::= SEQUENCE { command, approvals SEQUENCE SIZE (0..64) OF Approval }`, approvals
/// sorted by operatorID, one per operator (§5). Zero approvals parse; the quorum check refuses them.
public struct SignedCommand: DERMessage, Hashable {
    /// The command.
    public let command: QuorumCommand
    /// Sorted by operatorID, unique.
    public let approvals: [Approval]

    /// Builds a signed command; approvals are sorted here.
    public init(command: QuorumCommand, approvals: [Approval]) {
        self.command = command
        self.approvals = approvals.sortedByUTF8(\.operatorID)
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SignedCommand")
        command = try QuorumCommand(node: try r.node("command"))
        approvals = try r.sequence("approvals", maximum: WireLimits.approvalsMaximum, Approval.init(node:))
        try r.end()
        try WireValidation.checkSortedUnique(approvals.map(\.operatorID), "SignedCommand.approvals")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(command)
            c.appendSequence(of: approvals) { $0.append($1) }
        }
    }

    /// This command with `approval` added, or replacing that operator's earlier approval.
    public func adding(_ approval: Approval) -> SignedCommand {
        SignedCommand(
            command: command, approvals: approvals.filter { $0.operatorID != approval.operatorID } + [approval])
    }
}
