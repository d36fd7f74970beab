/// AWS KMS's authorization decision (the AWS KMS Developer Guide, "Determining access to a KMS key", and
/// the IAM User Guide, "Policy evaluation logic"), as a pure function of the request, the key policy, the
/// caller's identity policies and the key's grants:
/// 1. an explicit Deny in the key policy or an identity policy that matches the request denies it
///    (`explicitDeny`), whatever allows it;
/// 2. a key policy Allow that names the caller (its ARN, its role for an assumed-role session, `*`, or
///    the account when the caller is the account root) allows it;
/// 3. a key policy Allow that names the caller's account delegates to IAM: an identity policy Allow
///    then allows it;
/// 4. a grant to the caller for the operation, whose constraints the request meets, allows it;
/// 5. otherwise it is denied (`implicitDeny`).
/// An operation that names no key has no key policy: the account root may do it, anyone else needs an
/// identity policy Allow (and no Deny).
public enum PolicyEvaluator {
    /// Evaluates `request`. `keyPolicy` is nil for an operation that names no key.
    public static func evaluate(
        _ request: AuthorizationRequest, keyPolicy: PolicyDocument?, identityPolicies: [PolicyDocument],
        grants: [GrantRule] = []
    ) -> AuthorizationOutcome {
        let caller = CallerIdentity(request.principal, account: request.account)
        // 1. Explicit deny anywhere.
        if let keyPolicy {
            for statement in keyPolicy.statements where statement.effect == .deny {
                if statement.matchesPrincipal(caller) != .none, statement.matches(request) {
                    return .explicitDeny(by: "key policy " + statement.name)
                }
            }
        }
        for (number, policy) in identityPolicies.enumerated() {
            for statement in policy.statements where statement.effect == .deny && statement.matches(request) {
                return .explicitDeny(by: "identity policy \(number + 1) " + statement.name)
            }
        }
        guard let keyPolicy else {
            if caller.isRoot { return .allowed(by: "account root") }
            if let allowing = identityAllow(request, identityPolicies) { return .allowed(by: allowing) }
            return .implicitDeny
        }
        // 2. and 3.: the key policy, directly or by delegation to IAM.
        var delegated = false
        for statement in keyPolicy.statements where statement.effect == .allow && statement.matches(request) {
            switch statement.matchesPrincipal(caller) {
            case .direct: return .allowed(by: "key policy " + statement.name)
            case .account: delegated = true
            case .none: continue
            }
        }
        if delegated, let allowing = identityAllow(request, identityPolicies) { return .allowed(by: allowing) }
        // 4. Grants.
        for grant in grants where grant.allows(request, caller: caller) {
            return .allowed(by: "grant \(grant.id)")
        }
        return .implicitDeny
    }

    private static func identityAllow(_ request: AuthorizationRequest, _ policies: [PolicyDocument]) -> String? {
        for (number, policy) in policies.enumerated() {
            for statement in policy.statements where statement.effect == .allow && statement.matches(request) {
                return "identity policy \(number + 1) " + statement.name
            }
        }
        return nil
    }
}

/// What is asked: an action on a resource by a principal, with the request's condition keys.
public struct AuthorizationRequest: Sendable {
    /// The action, `kms:Encrypt`.
    public var action: String {
        didSet { lowercasedAction = action.lowercased() }
    }
    /// `action` lower-cased (actions match case-insensitively).
    private(set) var lowercasedAction: String
    /// The caller's principal ARN (`arn:aws:iam::ACCOUNT:root`, `…:user/NAME`, `…:role/NAME`, or an STS
    /// assumed-role session ARN).
    public var principal: String
    /// The caller's account.
    public var account: String
    /// The resource ARN (the key's), or `*` for an operation that names no key.
    public var resource: String
    /// The condition keys of the request, by lower-cased name (`kms:encryptioncontext:tenant`), each with
    /// its values (several for multi-valued keys such as `kms:EncryptionContextKeys`).
    public var conditionKeys: [String: [String]]
    /// The request's encryption context, for grant constraints.
    public var encryptionContext: [String: String]

    /// A request.
    public init(
        action: String, principal: String, account: String, resource: String,
        conditionKeys: [String: [String]] = [:], encryptionContext: [String: String] = [:]
    ) {
        self.action = action
        self.lowercasedAction = action.lowercased()
        self.principal = principal
        self.account = account
        self.resource = resource
        self.conditionKeys = conditionKeys
        self.encryptionContext = encryptionContext
    }
}

/// The decision, and what decided it.
public enum AuthorizationOutcome: Sendable, Equatable {
    /// Allowed by the named statement, grant or rule.
    case allowed(by: String)
    /// Denied by the named Deny statement.
    case explicitDeny(by: String)
    /// Nothing allowed it.
    case implicitDeny

    /// Whether the request may proceed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

/// A grant as the evaluator sees it (CreateGrant's terms).
public struct GrantRule: Sendable, Equatable {
    /// The grant id.
    public var id: String
    /// The grantee principal ARN.
    public var grantee: String
    /// The operations it allows (`Decrypt`, `GenerateDataKey`, …; KMS operation names).
    public var operations: Set<String>
    /// `EncryptionContextEquals`: the request's context must be exactly this.
    public var contextEquals: [String: String]?
    /// `EncryptionContextSubset`: the request's context must include these pairs.
    public var contextSubset: [String: String]?

    /// A grant.
    public init(
        id: String, grantee: String, operations: Set<String>, contextEquals: [String: String]? = nil,
        contextSubset: [String: String]? = nil
    ) {
        self.id = id
        self.grantee = grantee
        self.operations = operations
        self.contextEquals = contextEquals
        self.contextSubset = contextSubset
    }

    func allows(_ request: AuthorizationRequest, caller: CallerIdentity) -> Bool {
        guard caller.isNamed(by: grantee), request.action.lowercased().hasPrefix("kms:") else { return false }
        let operation = String(request.action.dropFirst(4))
        guard operations.contains(where: { $0.lowercased() == operation.lowercased() }) else { return false }
        // CreateGrant and RetireGrant carry no encryption context: the constraints bind the grants made
        // under this one instead (checked by CreateGrant).
        if ["creategrant", "retiregrant"].contains(operation.lowercased()) { return true }
        if let contextEquals, request.encryptionContext != contextEquals { return false }
        if let contextSubset, !contextSubset.allSatisfy({ request.encryptionContext[$0.key] == $0.value }) {
            return false
        }
        return true
    }
}
