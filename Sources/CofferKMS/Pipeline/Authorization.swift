import CofferStore

/// Decides whether a request may do `action` on `key` (nil for operations that name no key). The
/// access-control issue fills this in with key policies, identity policies and grants; until then
/// ``AllowAll`` allows every authenticated caller, as Coffer always has.
public protocol Authorizer: Sendable {
    /// Returns what decided an allowed request; throws AccessDeniedException to refuse.
    func authorize(action: String, key: KeyRecord?, context: RequestContext) async throws(KMSError) -> Decision
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

    public func authorize(action: String, key: KeyRecord?, context: RequestContext) async throws(KMSError) -> Decision {
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
