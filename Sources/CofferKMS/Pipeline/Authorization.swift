import CofferJSON
import CofferPolicy
import CofferStore

/// Decides whether a request may do `action` on `key` (nil for operations that name no key):
/// ``PolicyAuthorizer`` evaluates key policies, identity policies and grants as AWS KMS does;
/// ``AllowAll`` allows every authenticated caller (tests, and hosts that opt out of access control).
public protocol Authorizer: Sendable {
    /// The decision and what made it; a refusal is a ``Decision`` with `allowed` false (the pipeline
    /// answers AccessDeniedException with its message and audits the deciding rule).
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
    /// The key's aliases (`kms:ResourceAliases`), read only when a policy asks for them; nil when they
    /// cannot be read (the request is then refused, never decided without them).
    public var resourceAliases: @Sendable () async -> [String]?
    /// The key's grants, read only when no policy allows the request.
    public var grants: @Sendable () async -> [GrantRule]
    /// The resource when it is not the key (an alias's ARN: alias operations are authorized on the alias
    /// by identity policies as well as on the key).
    public var resource: String?

    /// An input.
    public init(
        action: String, key: KeyRecord?, context: RequestContext, conditions: RequestConditions = RequestConditions(),
        requestAlias: String? = nil, resourceAliases: @escaping @Sendable () async -> [String]? = { [] },
        grants: @escaping @Sendable () async -> [GrantRule] = { [] }, resource: String? = nil
    ) {
        self.action = action
        self.key = key
        self.context = context
        self.conditions = conditions
        self.requestAlias = requestAlias
        self.resourceAliases = resourceAliases
        self.grants = grants
        self.resource = resource
    }
}

/// An authorization decision and what made it: recorded by the audit hook.
public struct Decision: Sendable, Equatable {
    /// Whether the request may proceed.
    public var allowed: Bool
    /// The policy statement, grant or rule that decided, for the audit record ("no statement allows" for
    /// an implicit denial).
    public var decidedBy: String
    /// A refusal's AccessDeniedException message (AWS's shape); empty when allowed.
    public var message: String
    /// The grant that allowed the request, when a grant did (CreateGrant then stays within its terms).
    public var grantID: String?

    /// An allowing decision.
    public init(decidedBy: String) {
        self.allowed = true
        self.decidedBy = decidedBy
        self.message = ""
    }

    /// A refusal.
    public static func deny(by rule: String, message: String) -> Decision {
        var decision = Decision(decidedBy: rule)
        decision.allowed = false
        decision.message = message
        return decision
    }
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
    /// The error's message (never a secret: KMS errors carry ids and outcomes).
    public var errorMessage: String?
    /// The request's members that are safe to record (``AuditRedaction``): never a plaintext, a
    /// ciphertext, a message, a MAC, a signature or key material.
    public var requestParameters: JSONObject?
}

/// Where audit events go. The access-control issue adds the tamper-evident log; until then
/// ``NoAudit`` drops them (the host's request log still names every call).
public protocol AuditSink: Sendable {
    /// Records one call.
    func record(_ event: AuditEvent) async
    /// The record of a call that is about to succeed, for the store to write in the same transaction as
    /// the call's change (``PendingAudit``); nil when this sink keeps no records in the store.
    func prepare(_ event: AuditEvent) -> PendingAudit?
    /// Appends a prepared record that no change took (the call changed nothing): the same record, not a
    /// second one built again. A record that cannot be written fails the call (fail closed: no call
    /// succeeds unrecorded).
    func append(_ pending: PendingAudit) async throws(KMSError)
}

extension AuditSink {
    public func prepare(_ event: AuditEvent) -> PendingAudit? { nil }
    public func append(_ pending: PendingAudit) async throws(KMSError) {}
}

/// The audit sink that keeps nothing.
public struct NoAudit: AuditSink {
    /// The sink.
    public init() {}

    public func record(_ event: AuditEvent) async {}
}
