import CofferJSON

/// An IAM policy document as AWS KMS reads key policies and IAM reads identity policies: statements of
/// Effect, Principal/NotPrincipal (key policies only), Action/NotAction, Resource/NotResource and
/// Condition. Parsed strictly (``init(json:kind:)``): an unknown element, a missing Effect or Action, or a
/// condition operator IAM does not define is a ``PolicyError``, which the API answers as
/// MalformedPolicyDocumentException, so a policy that would silently mean something else is never stored.
public struct PolicyDocument: Sendable, Equatable {
    /// Where the document is attached: a key policy names principals; an identity policy must not.
    public enum Kind: Sendable, Equatable {
        /// A KMS key policy (resource-based): every statement has Principal or NotPrincipal.
        case keyPolicy
        /// An identity policy of a user or role: no statement has Principal or NotPrincipal.
        case identityPolicy
    }

    /// `Version` (`2012-10-17` or `2008-10-17`), if given.
    public let version: String?
    /// `Id`, if given.
    public let id: String?
    /// The statements, in order.
    public let statements: [PolicyStatement]

    /// The condition keys the statements test (lower-cased names), found once at parse time.
    public let conditionKeys: Set<String>

    /// Whether any statement has a condition on `key` (lower-cased name).
    public func usesConditionKey(_ key: String) -> Bool { conditionKeys.contains(key) }

    /// Parses `json` as a document of `kind`.
    public init(json: String, kind: Kind) throws(PolicyError) {
        guard json.utf8.count <= PolicyLimits.documentBytes else {
            throw PolicyError(.tooLarge, "the policy is larger than \(PolicyLimits.documentBytes) bytes")
        }
        let root: JSONValue
        do {
            root = try JSONReader.read(Array(json.utf8))
        } catch {
            throw PolicyError(.malformed, "the policy is not JSON: \(error)")
        }
        guard case .object(let object) = root else { throw PolicyError(.malformed, "the policy is not a JSON object") }
        try PolicyReader.onlyMembers(object, ["Version", "Id", "Statement"], in: "the policy")
        version = try PolicyReader.optionalString(object["Version"], "Version")
        if let version, version != "2012-10-17", version != "2008-10-17" {
            throw PolicyError(.invalid, "Version \(version) is not 2012-10-17 or 2008-10-17")
        }
        id = try PolicyReader.optionalString(object["Id"], "Id")
        let list: [JSONValue]
        switch object["Statement"] {
        case .array(let values)?: list = values
        case .object(let single)?: list = [.object(single)]
        case nil: throw PolicyError(.invalid, "the policy has no Statement")
        default: throw PolicyError(.invalid, "Statement is not an object or a list of objects")
        }
        guard !list.isEmpty else { throw PolicyError(.invalid, "Statement is empty") }
        guard list.count <= PolicyLimits.statements else {
            throw PolicyError(.tooLarge, "more than \(PolicyLimits.statements) statements")
        }
        var statements: [PolicyStatement] = []
        for (index, value) in list.enumerated() {
            guard case .object(let statement) = value else {
                throw PolicyError(.invalid, "statement \(index + 1) is not an object")
            }
            statements.append(try PolicyStatement(statement, index: index, kind: kind))
        }
        self.statements = statements
        conditionKeys = Set(statements.flatMap { $0.conditions.map(\.key) })
    }
}

/// One statement of a policy document.
public struct PolicyStatement: Sendable, Equatable {
    /// `Allow` or `Deny`.
    public enum Effect: String, Sendable, Equatable {
        /// Allows what it matches (unless a Deny also matches).
        case allow = "Allow"
        /// Denies what it matches, whatever else allows it.
        case deny = "Deny"
    }

    /// A statement's principals: `*`, or lists by principal type.
    public enum Principals: Sendable, Equatable {
        /// `"*"` or `{"AWS": "*"}`: everyone.
        case anyone
        /// `AWS` principals (account ids, account roots, users, roles) and principals of other types
        /// (services, federated users), which never match a Coffer caller.
        case listed(aws: [String], others: [String])
    }

    /// The statement's position (0-based), for naming it when it decides.
    public let index: Int
    /// `Sid`, if given.
    public let sid: String?
    /// `Effect`.
    public let effect: Effect
    /// `Principal` or `NotPrincipal` (key policies), nil in identity policies.
    public let principals: Principals?
    /// Whether `principals` came as `NotPrincipal`.
    public let notPrincipal: Bool
    /// `Action` or `NotAction` patterns.
    public let actions: [String]
    /// Whether `actions` came as `NotAction`.
    public let notAction: Bool
    /// `actions` lower-cased once (actions match case-insensitively).
    let lowercasedActions: [String]
    /// `Resource` or `NotResource` patterns.
    public let resources: [String]
    /// Whether `resources` came as `NotResource`.
    public let notResource: Bool
    /// `Condition`: every one must hold.
    public let conditions: [PolicyCondition]

    /// How the statement is named when it decides: its Sid, else its position.
    public var name: String { sid.map { "statement \"\($0)\"" } ?? "statement \(index + 1)" }

    init(_ object: JSONObject, index: Int, kind: PolicyDocument.Kind) throws(PolicyError) {
        let place = "statement \(index + 1)"
        try PolicyReader.onlyMembers(
            object,
            [
                "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
                "Condition",
            ],
            in: place)
        self.index = index
        sid = try PolicyReader.optionalString(object["Sid"], "\(place) Sid")
        guard let effectText = try PolicyReader.optionalString(object["Effect"], "\(place) Effect") else {
            throw PolicyError(.invalid, "\(place) has no Effect")
        }
        guard let effect = Effect(rawValue: effectText) else {
            throw PolicyError(.invalid, "\(place) Effect \(effectText) is not Allow or Deny")
        }
        self.effect = effect
        let principal = object["Principal"]
        let notPrincipal = object["NotPrincipal"]
        switch (kind, principal, notPrincipal) {
        case (.keyPolicy, _?, _?), (.identityPolicy, _?, _), (.identityPolicy, _, _?):
            throw PolicyError(
                .invalid,
                kind == .keyPolicy
                    ? "\(place) has both Principal and NotPrincipal"
                    : "\(place) names a principal, which an identity policy must not")
        case (.keyPolicy, nil, nil):
            throw PolicyError(.invalid, "\(place) has no Principal")
        case (.keyPolicy, let value?, nil):
            principals = try PolicyReader.principals(value, place)
            self.notPrincipal = false
        case (.keyPolicy, nil, let value?):
            guard effect == .deny else {
                throw PolicyError(.invalid, "\(place): NotPrincipal is allowed with Deny only")
            }
            principals = try PolicyReader.principals(value, place)
            guard principals != .anyone else {
                throw PolicyError(.invalid, "\(place): NotPrincipal \"*\" names no one")
            }
            self.notPrincipal = true
        case (.identityPolicy, nil, nil):
            principals = nil
            self.notPrincipal = false
        }
        (actions, notAction) = try PolicyReader.either(object, "Action", "NotAction", place)
        lowercasedActions = actions.map { $0.lowercased() }
        (resources, notResource) = try PolicyReader.either(object, "Resource", "NotResource", place)
        conditions =
            try object["Condition"].map { value throws(PolicyError) in
                try PolicyCondition.parse(value, place)
            } ?? []
    }
}

/// The JSON shapes of the policy grammar.
enum PolicyReader {
    static func onlyMembers(_ object: JSONObject, _ allowed: Set<String>, in place: String) throws(PolicyError) {
        var seen = Set<String>()
        for member in object.members {
            guard allowed.contains(member.name) else {
                throw PolicyError(.invalid, "\(place) has an unknown element \(member.name)")
            }
            guard seen.insert(member.name).inserted else {
                throw PolicyError(.invalid, "\(place) has \(member.name) twice")
            }
        }
    }

    static func optionalString(_ value: JSONValue?, _ place: String) throws(PolicyError) -> String? {
        switch value {
        case nil: return nil
        case .string(let text)?: return text
        default: throw PolicyError(.invalid, "\(place) is not a string")
        }
    }

    /// A string or a non-empty list of strings.
    static func strings(_ value: JSONValue, _ place: String) throws(PolicyError) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .array(let values):
            guard !values.isEmpty else { throw PolicyError(.invalid, "\(place) is an empty list") }
            guard values.count <= PolicyLimits.listValues else {
                throw PolicyError(.tooLarge, "\(place) has more than \(PolicyLimits.listValues) values")
            }
            var texts: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw PolicyError(.invalid, "\(place) holds a non-string") }
                texts.append(text)
            }
            return texts
        default: throw PolicyError(.invalid, "\(place) is not a string or a list of strings")
        }
    }

    /// Exactly one of `name` and `notName`.
    static func either(
        _ object: JSONObject, _ name: String, _ notName: String, _ place: String
    ) throws(PolicyError) -> ([String], Bool) {
        switch (object[name], object[notName]) {
        case (let value?, nil): return (try strings(value, "\(place) \(name)"), false)
        case (nil, let value?): return (try strings(value, "\(place) \(notName)"), true)
        case (nil, nil): throw PolicyError(.invalid, "\(place) has no \(name) or \(notName)")
        case (_?, _?): throw PolicyError(.invalid, "\(place) has both \(name) and \(notName)")
        }
    }

    static func principals(_ value: JSONValue, _ place: String) throws(PolicyError) -> PolicyStatement.Principals {
        if case .string("*") = value { return .anyone }
        guard case .object(let object) = value, !object.members.isEmpty else {
            throw PolicyError(.invalid, "\(place) Principal is not \"*\" or an object of principal types")
        }
        try onlyMembers(object, ["AWS", "Service", "Federated", "CanonicalUser"], in: "\(place) Principal")
        var aws: [String] = []
        var others: [String] = []
        for member in object.members {
            let names = try strings(member.value, "\(place) Principal \(member.name)")
            if member.name == "AWS" { aws += names } else { others += names }
        }
        for name in aws where name != "*" {
            // An account id, or an IAM ARN; IAM allows no other wildcard in a principal.
            let isAccount = name.count == 12 && name.allSatisfy { $0.isASCII && $0.isNumber }
            guard isAccount || (name.hasPrefix("arn:") && !name.contains("*") && !name.contains("?")) else {
                throw PolicyError(.invalid, "\(place) Principal \(name) is not an account id or an ARN")
            }
        }
        return aws.contains("*") ? .anyone : .listed(aws: aws, others: others)
    }
}
