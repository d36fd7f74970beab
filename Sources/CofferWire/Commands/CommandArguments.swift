import SwiftASN1

/// The argument types of PROTOCOL §5, one per command; `QuorumCommand.arguments` holds one's DER.
public enum CommandArguments: Hashable, Sendable {
    /// `domain.create`.
    case create(DomainCreate)
    /// `domain.modifyOperators`.
    case modifyOperators(upsert: [Operator], remove: [String])
    /// `domain.modifyMembers`.
    case modifyMembers(add: [MemberAddition], remove: [String])
    /// `domain.modifyHosts`.
    case modifyHosts(add: [Host], remove: [String])
    /// `domain.modifyRules`: replaces all rules.
    case modifyRules([CommandRule])
    /// `domain.modifyParameters`.
    case modifyParameters(Parameters)
    /// `domain.rotateKeys` (`SEQUENCE {}`).
    case rotateKeys
    /// `domain.join`.
    case join(DomainToken)
    /// `domain.leave`.
    case leave(hsmID: String)
    /// `domain.recover` (docs/protocol.md, "Recovery"); sent inside a ``RecoverRequest``.
    case recover(DomainRecover)

    /// The command names of §5.
    public static let commandNames = [
        "domain.create", "domain.join", "domain.leave", "domain.modifyHosts", "domain.modifyMembers",
        "domain.modifyOperators", "domain.modifyParameters", "domain.modifyRules", "domain.recover",
        "domain.rotateKeys",
    ]

    /// The command name these arguments belong to.
    public var commandName: String {
        switch self {
        case .create: "domain.create"
        case .modifyOperators: "domain.modifyOperators"
        case .modifyMembers: "domain.modifyMembers"
        case .modifyHosts: "domain.modifyHosts"
        case .modifyRules: "domain.modifyRules"
        case .modifyParameters: "domain.modifyParameters"
        case .rotateKeys: "domain.rotateKeys"
        case .join: "domain.join"
        case .leave: "domain.leave"
        case .recover: "domain.recover"
        }
    }

    /// Strictly parses `arguments` as the argument type of `command`. An unknown command name is
    /// `unsupported`; lists must be sorted by their id and unique (§5).
    public init(command: String, arguments: [UInt8]) throws(WireError) {
        let node = try DERReader.parse(arguments, command)
        switch command {
        case "domain.create":
            self = .create(try DomainCreate(node: node))
        case "domain.modifyOperators":
            var r = try DERReader(node, "DomainModifyOperators")
            let upsert = try r.sequence("upsert", Operator.init(node:))
            let remove = try r.sequence("remove") { n throws(WireError) in try DERReader.name(n, "remove") }
            try r.end()
            try WireValidation.checkSortedUnique(upsert.map(\.id), "DomainModifyOperators.upsert")
            try WireValidation.checkSortedUnique(remove, "DomainModifyOperators.remove")
            self = .modifyOperators(upsert: upsert, remove: remove)
        case "domain.modifyMembers":
            var r = try DERReader(node, "DomainModifyMembers")
            let add = try r.sequence("add", MemberAddition.init(node:))
            let remove = try r.sequence("remove") { n throws(WireError) in try DERReader.hsmID(n, "remove") }
            try r.end()
            try WireValidation.checkSortedUnique(add.map(\.identity.identity.hsmID), "DomainModifyMembers.add")
            try WireValidation.checkSortedUnique(remove, "DomainModifyMembers.remove")
            self = .modifyMembers(add: add, remove: remove)
        case "domain.modifyHosts":
            var r = try DERReader(node, "DomainModifyHosts")
            let add = try r.sequence("add", Host.init(node:))
            let remove = try r.sequence("remove") { n throws(WireError) in try DERReader.name(n, "remove") }
            try r.end()
            try WireValidation.checkSortedUnique(add.map(\.id), "DomainModifyHosts.add")
            try WireValidation.checkSortedUnique(remove, "DomainModifyHosts.remove")
            self = .modifyHosts(add: add, remove: remove)
        case "domain.modifyRules":
            var r = try DERReader(node, "DomainModifyRules")
            let rules = try r.sequence("rules", CommandRule.init(node:))
            try r.end()
            try WireValidation.checkSortedUnique(rules.map(\.command), "DomainModifyRules.rules")
            self = .modifyRules(rules)
        case "domain.modifyParameters":
            var r = try DERReader(node, "DomainModifyParameters")
            let parameters = try Parameters(node: try r.node("parameters"))
            try r.end()
            self = .modifyParameters(parameters)
        case "domain.rotateKeys":
            try DERReader(node, "DomainRotateKeys").end()
            self = .rotateKeys
        case "domain.join":
            var r = try DERReader(node, "DomainJoin")
            let token = try DomainToken(node: try r.node("token"))
            try r.end()
            self = .join(token)
        case "domain.leave":
            var r = try DERReader(node, "DomainLeave")
            let hsmID = try r.hsmID("hsmID")
            try r.end()
            self = .leave(hsmID: hsmID)
        case "domain.recover":
            self = .recover(try DomainRecover(node: node))
        default:
            throw WireError(.unknownCommand, "no argument type for \(command)", code: .unsupported)
        }
    }

    /// The DER of these arguments, for `QuorumCommand.arguments`. Lists are written in the order given.
    public var derBytes: [UInt8] {
        var coder = DERWriter()
        switch self {
        case .create(let create):
            coder.append(create)
        case .modifyOperators(let upsert, let remove):
            coder.appendSequence { c in
                c.appendSequence(of: upsert) { $0.append($1) }
                c.appendSequence(of: remove) { $0.appendUTF8($1) }
            }
        case .modifyMembers(let add, let remove):
            coder.appendSequence { c in
                c.appendSequence(of: add) { $0.append($1) }
                c.appendSequence(of: remove) { $0.appendUTF8($1) }
            }
        case .modifyHosts(let add, let remove):
            coder.appendSequence { c in
                c.appendSequence(of: add) { $0.append($1) }
                c.appendSequence(of: remove) { $0.appendUTF8($1) }
            }
        case .modifyRules(let rules):
            coder.appendSequence { c in c.appendSequence(of: rules) { $0.append($1) } }
        case .modifyParameters(let parameters):
            coder.appendSequence { c in c.append(parameters) }
        case .rotateKeys:
            coder.appendSequence { _ in }
        case .join(let token):
            coder.appendSequence { c in c.append(token) }
        case .leave(let hsmID):
            coder.appendSequence { c in c.appendUTF8(hsmID) }
        case .recover(let recover):
            coder.append(recover)
        }
        return coder.serializedBytes
    }
}

/// `DomainCreate` (§5): the genesis state's contents; `member` is the executing HSM itself.
public struct DomainCreate: DERMessage, Hashable {
    /// The domain's name.
    public let name: String
    /// Sorted by id; every one signs the create command.
    public let operators: [Operator]
    /// The executing HSM's signed identity and kind.
    public let member: MemberAddition
    /// Sorted by id.
    public let hosts: [Host]
    /// Sorted by command.
    public let rules: [CommandRule]
    /// The domain's parameters.
    public let parameters: Parameters

    /// Builds the arguments; lists are sorted here.
    public init(
        name: String, operators: [Operator], member: MemberAddition, hosts: [Host], rules: [CommandRule],
        parameters: Parameters
    ) {
        self.name = name
        self.operators = operators.sortedByUTF8(\.id)
        self.member = member
        self.hosts = hosts.sortedByUTF8(\.id)
        self.rules = rules.sortedByUTF8(\.command)
        self.parameters = parameters
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "DomainCreate")
        name = try r.name("name")
        operators = try r.sequence("operators", Operator.init(node:))
        member = try MemberAddition(node: try r.node("member"))
        hosts = try r.sequence("hosts", Host.init(node:))
        rules = try r.sequence("rules", CommandRule.init(node:))
        parameters = try Parameters(node: try r.node("parameters"))
        try r.end()
        try WireValidation.checkSortedUnique(operators.map(\.id), "DomainCreate.operators")
        try WireValidation.checkSortedUnique(hosts.map(\.id), "DomainCreate.hosts")
        try WireValidation.checkSortedUnique(rules.map(\.command), "DomainCreate.rules")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(name)
            c.appendSequence(of: operators) { $0.append($1) }
            c.append(member)
            c.appendSequence(of: hosts) { $0.append($1) }
            c.appendSequence(of: rules) { $0.append($1) }
            c.append(parameters)
        }
    }
}

/// `MemberAddition ::= SEQUENCE { identity SignedIdentity, kind }`.
public struct MemberAddition: DERMessage, Hashable {
    /// The new member's signed identity (state uninitialized).
    public let identity: SignedIdentity
    /// Online or recovery.
    public let kind: MemberKind

    /// Builds an addition.
    public init(identity: SignedIdentity, kind: MemberKind) {
        self.identity = identity
        self.kind = kind
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "MemberAddition")
        identity = try SignedIdentity(node: try r.node("identity"))
        kind = try r.enumerated("kind", as: MemberKind.self)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.append(identity)
            c.appendEnumerated(kind.rawValue)
        }
    }
}
