import CofferCrypto
import SwiftASN1

/// `DomainState` (PROTOCOL §4): who and what a domain trusts at one epoch. Public; it never holds key
/// material. `digest = H(DER(state))` chains the states.
public struct DomainState: DERMessage, Hashable {
    /// The only version this implementation reads and writes.
    public static let version: Int64 = 1

    /// 16 bytes.
    public let domainID: [UInt8]
    /// 1 … 128 bytes of UTF-8.
    public let name: String
    /// 0 at creation, +1 with every change.
    public let epoch: Int64
    /// `H(DER(previous state))`; 48 zero bytes at epoch 0.
    public let previous: [UInt8]
    /// Sorted by id.
    public let operators: [Operator]
    /// Sorted by hsmID.
    public let members: [Member]
    /// Sorted by id.
    public let hosts: [Host]
    /// Sorted by command.
    public let rules: [CommandRule]
    /// `domainKeys[0]` is the active key; the others are retained, newest first. Never empty.
    public let domainKeys: [DomainKeyInfo]
    /// Always all four.
    public let parameters: Parameters
    /// The DER, exactly as received or as encoded once.
    public let derBytes: [UInt8]

    /// Builds a state. Lists are written in the order given: callers sort them (``sortedByUTF8(_:)``);
    /// the decoder refuses unsorted lists.
    public init(
        domainID: [UInt8], name: String, epoch: Int64, previous: [UInt8], operators: [Operator],
        members: [Member], hosts: [Host], rules: [CommandRule], domainKeys: [DomainKeyInfo], parameters: Parameters
    ) {
        self.domainID = domainID
        self.name = name
        self.epoch = epoch
        self.previous = previous
        self.operators = operators
        self.members = members
        self.hosts = hosts
        self.rules = rules
        self.domainKeys = domainKeys
        self.parameters = parameters
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendInteger(Self.version)
            c.appendOctets(domainID)
            c.appendUTF8(name)
            c.appendInteger(epoch)
            c.appendOctets(previous)
            c.appendSequence(of: operators) { $0.append($1) }
            c.appendSequence(of: members) { $0.append($1) }
            c.appendSequence(of: hosts) { $0.append($1) }
            c.appendSequence(of: rules) { $0.append($1) }
            c.appendSequence(of: domainKeys) { $0.append($1) }
            c.append(parameters)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "DomainState")
        let version = try r.integer("version", Int64.min...Int64.max)
        guard version == Self.version else { throw WireError(.unknownVersion, "DomainState.version = \(version)") }
        domainID = try r.octets("domainID", count: WireLimits.domainIDLength)
        name = try r.name("name")
        epoch = try r.integer("epoch", WireLimits.idRange)
        previous = try r.octets("previous", count: WireLimits.digestLength)
        operators = try r.sequence("operators", Operator.init(node:))
        members = try r.sequence("members", Member.init(node:))
        hosts = try r.sequence("hosts", Host.init(node:))
        rules = try r.sequence("rules", CommandRule.init(node:))
        domainKeys = try r.sequence("domainKeys", DomainKeyInfo.init(node:))
        parameters = try Parameters(node: try r.node("parameters"))
        try r.end()
        try WireValidation.checkSortedUnique(operators.map(\.id), "DomainState.operators")
        try WireValidation.checkSortedUnique(members.map(\.hsmID), "DomainState.members")
        try WireValidation.checkSortedUnique(hosts.map(\.id), "DomainState.hosts")
        try WireValidation.checkSortedUnique(rules.map(\.command), "DomainState.rules")
        guard !domainKeys.isEmpty else {
            throw WireError(.badDomainKeys, "domainKeys[0] is the active key: the list cannot be empty")
        }
        guard Set(domainKeys.map(\.keyID)).count == domainKeys.count else {
            throw WireError(.duplicate, "DomainState.domainKeys: duplicate keyID")
        }
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }

    /// `H(DER(state))`.
    public var digest: [UInt8] { Hash.h(derBytes) }

    /// The active domain key (`domainKeys[0]`; the decoder guarantees one exists).
    public var activeKey: DomainKeyInfo? { domainKeys.first }
}

/// `Operator ::= SEQUENCE { id, signingKey, roles SEQUENCE OF UTF8String }`, roles sorted.
public struct Operator: DERMessage, Hashable {
    /// 1 … 128 bytes.
    public let id: String
    /// The operator's signing key; unique among operators (a signer is identified by its key).
    public let signingKey: P384PublicKey
    /// Sorted, unique.
    public let roles: [String]

    /// Builds an operator; roles are sorted here.
    public init(id: String, signingKey: P384PublicKey, roles: [String]) {
        self.id = id
        self.signingKey = signingKey
        self.roles = roles.sortedByUTF8 { $0 }
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Operator")
        id = try r.name("id")
        signingKey = try r.publicKey("signingKey")
        roles = try r.sequence("roles") { n throws(WireError) in try DERReader.name(n, "Operator.role") }
        try r.end()
        try WireValidation.checkSortedUnique(roles, "Operator.roles")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(id)
            c.appendOctets(signingKey.spki)
            c.appendSequence(of: roles) { $0.appendUTF8($1) }
        }
    }
}

/// Whether a member serves sessions and signs tokens (online) or only receives the DKEK (recovery, §8).
public enum MemberKind: Int64, Sendable, CaseIterable, Hashable {
    /// Serves sessions, signs tokens.
    case online = 0
    /// Receives the DKEK in every token; never signs or serves.
    case recovery = 1
}

/// `Member ::= SEQUENCE { hsmID, signingKey, agreementKey, kind }`.
public struct Member: DERMessage, Hashable {
    /// `hex(H(signingKey)[0..<16])`.
    public let hsmID: String
    /// The HSM's signing key.
    public let signingKey: P384PublicKey
    /// The HSM's agreement key.
    public let agreementKey: P384PublicKey
    /// Online or recovery.
    public let kind: MemberKind

    /// Builds a member.
    public init(hsmID: String, signingKey: P384PublicKey, agreementKey: P384PublicKey, kind: MemberKind) {
        self.hsmID = hsmID
        self.signingKey = signingKey
        self.agreementKey = agreementKey
        self.kind = kind
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Member")
        hsmID = try r.hsmID("hsmID")
        signingKey = try r.publicKey("signingKey")
        agreementKey = try r.publicKey("agreementKey")
        kind = try r.enumerated("kind", as: MemberKind.self)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(hsmID)
            c.appendOctets(signingKey.spki)
            c.appendOctets(agreementKey.spki)
            c.appendEnumerated(kind.rawValue)
        }
    }
}

/// `Host ::= SEQUENCE { id, signingKey }`: a service host allowed to open sessions.
public struct Host: DERMessage, Hashable {
    /// 1 … 128 bytes.
    public let id: String
    /// The host's identity signing key.
    public let signingKey: P384PublicKey

    /// Builds a host.
    public init(id: String, signingKey: P384PublicKey) {
        self.id = id
        self.signingKey = signingKey
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Host")
        id = try r.name("id")
        signingKey = try r.publicKey("signingKey")
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(id)
            c.appendOctets(signingKey.spki)
        }
    }
}

/// `DomainKeyInfo ::= SEQUENCE { keyID OCTET STRING (8), created GeneralizedTime }`.
public struct DomainKeyInfo: DERMessage, Hashable {
    /// 8 bytes.
    public let keyID: [UInt8]
    /// When the executing HSM drew the key.
    public let created: WireTime

    /// Builds a key record.
    public init(keyID: [UInt8], created: WireTime) {
        self.keyID = keyID
        self.created = created
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "DomainKeyInfo")
        keyID = try r.octets("keyID", count: WireLimits.domainKeyIDLength)
        created = try r.time("created")
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendOctets(keyID)
            c.appendTime(created)
        }
    }
}

/// `Parameters` (§4): always all four fields, each within its range.
public struct Parameters: DERMessage, Hashable {
    /// 1 … 86,400 s.
    public let sessionLifetime: Int
    /// 1 … 64 keys kept, the active one included.
    public let domainKeyRetention: Int
    /// 1 … 2,592,000 s.
    public let commandMaxAge: Int
    /// 0 … 3600 s.
    public let clockSkew: Int

    /// The operator tool's defaults (§4).
    public static let defaults = Parameters(
        sessionLifetime: 3600, domainKeyRetention: 7, commandMaxAge: 86_400, clockSkew: 300)

    /// Builds parameters (unchecked: the decoder and the domain layer check ranges).
    public init(sessionLifetime: Int, domainKeyRetention: Int, commandMaxAge: Int, clockSkew: Int) {
        self.sessionLifetime = sessionLifetime
        self.domainKeyRetention = domainKeyRetention
        self.commandMaxAge = commandMaxAge
        self.clockSkew = clockSkew
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Parameters")
        sessionLifetime = try r.int("sessionLifetime", WireLimits.sessionLifetime)
        domainKeyRetention = try r.int("domainKeyRetention", WireLimits.domainKeyRetention)
        commandMaxAge = try r.int("commandMaxAge", WireLimits.commandMaxAge)
        clockSkew = try r.int("clockSkew", WireLimits.clockSkew)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendInteger(sessionLifetime)
            c.appendInteger(domainKeyRetention)
            c.appendInteger(commandMaxAge)
            c.appendInteger(clockSkew)
        }
    }

    /// Whether every field is within its range (§4).
    public var isWithinRanges: Bool {
        WireLimits.sessionLifetime.contains(sessionLifetime)
            && WireLimits.domainKeyRetention.contains(domainKeyRetention)
            && WireLimits.commandMaxAge.contains(commandMaxAge) && WireLimits.clockSkew.contains(clockSkew)
    }
}
