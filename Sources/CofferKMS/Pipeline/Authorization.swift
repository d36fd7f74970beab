import CofferPolicy
import CofferStore

/// Decides whether a request may do `action` on `key` (nil for operations that name no key):
/// ``PolicyAuthorizer`` evaluates key policies, identity policies and grants as AWS KMS does;
/// ``AllowAll`` allows every authenticated caller (tests, and hosts that opt out of access control).
public protocol Authorizer: Sendable {
    /// Returns what decided an allowed request; throws AccessDeniedException to refuse.
    func authorize(_ request: AuthorizationInput) async throws(KMSError) -> Decision
    /// Whether `policy` (a key policy about to be set on the key `keyARN`) still lets the caller of
    /// `context` call PutKeyPolicy on it: AWS's policy lockout safety check.
    func keepsPolicyAccess(_ policy: String, keyARN: String, context: RequestContext) async -> Bool
}

extension Authorizer {
    public func keepsPolicyAccess(_ policy: String, keyARN: String, context: RequestContext) async -> Bool { true }
}

/// What an authorization is asked about: the action, the key (resolved), the caller, and the
/// request's condition keys.
public struct AuthorizationInput: Sendable {
    /// The `kms:` action.
    public var action: String
    /// The key the request names, resolved; nil for an operation that names none.
    public var key: KeyRecord?
    /// The caller and where it asks from.
    public var context: RequestContext
    /// The operation's own condition keys (``RequestConditions``).
    public var conditions: RequestConditions
    /// The alias the request named the key by (`kms:RequestAlias`), if it did.
    public var requestAlias: String?
    /// The key's aliases (`kms:ResourceAliases`), read only when a policy asks for them.
    public var resourceAliases: @Sendable () async -> [String]
    /// The key's grants, read only when no policy allows the request.
    public var grants: @Sendable () async -> [GrantRule]

    /// An input.
    public init(
        action: String, key: KeyRecord?, context: RequestContext, conditions: RequestConditions = RequestConditions(),
        requestAlias: String? = nil, resourceAliases: @escaping @Sendable () async -> [String] = { [] },
        grants: @escaping @Sendable () async -> [GrantRule] = { [] }
    ) {
        self.action = action
        self.key = key
        self.context = context
        self.conditions = conditions
        self.requestAlias = requestAlias
        self.resourceAliases = resourceAliases
        self.grants = grants
    }
}

/// What decided a request: recorded by the audit hook.
public struct Decision: Sendable, Equatable {
    /// The policy statement, grant or rule that decided, for the audit record.
    public var decidedBy: String

    /// A decision.
    public init(decidedBy: String) { self.decidedBy = decidedBy }
}

/// The authorizer of a Coffer without access control: every authenticated caller may do everything.
public struct AllowAll: Authorizer {
    /// The authorizer.
    public init() {}

    public func authorize(_ request: AuthorizationInput) async throws(KMSError) -> Decision {
        Decision(decidedBy: "allow-all")
    }
}

/// One API call as the audit hook sees it: never a plaintext, a data key or a secret.
public struct AuditEvent: Sendable {
    /// The operation.
    public var operation: String
    /// The request context (principal, scope, request id, source address).
    public var context: RequestContext
    /// The key the request named, once resolved.
    public var keyARN: String?
    /// What decided the authorization, when it was reached.
    public var decision: Decision?
    /// The AWS error name when the call failed.
    public var errorCode: String?
}

/// Where audit events go. The access-control issue adds the tamper-evident log; until then
/// ``NoAudit`` drops them (the host's request log still names every call).
public protocol AuditSink: Sendable {
    /// Records one call.
    func record(_ event: AuditEvent) async
}

/// The audit sink that keeps nothing.
public struct NoAudit: AuditSink {
    /// The sink.
    public init() {}

    public func record(_ event: AuditEvent) async {}
}
