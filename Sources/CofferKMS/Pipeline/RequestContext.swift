import CofferPolicy
import CofferStore

/// Who is asking, where, and under which request id: built by the HTTP layer from the verified SigV4
/// identity and handed to every operation, the authorization hook and the audit hook.
public struct RequestContext: Sendable {
    /// The caller's account and the region the request was signed for: the only keys, aliases and tags
    /// the request can see.
    public var scope: KeyScope
    /// The caller's principal ARN (`arn:aws:iam::ACCOUNT:root`, a user or a role).
    public var principal: String
    /// The access key id that signed the request.
    public var accessKeyID: String
    /// The request id returned in `x-amzn-RequestId`.
    public var requestID: String
    /// The client's address, when known.
    public var sourceAddress: String?
    /// Whether the request came over TLS (`aws:SecureTransport`).
    public var secureTransport: Bool
    /// The caller's identity policies (those of its principal; the account root needs none).
    public var identityPolicies: [PolicyDocument]

    /// A context for a caller of `account` whose request was signed for `region`.
    public init(
        account: String, region: String, principal: String, accessKeyID: String, requestID: String,
        sourceAddress: String? = nil, secureTransport: Bool = false, identityPolicies: [PolicyDocument] = []
    ) {
        self.identityPolicies = identityPolicies
        self.scope = KeyScope(account: account, region: region)
        self.principal = principal
        self.accessKeyID = accessKeyID
        self.requestID = requestID
        self.sourceAddress = sourceAddress
        self.secureTransport = secureTransport
    }

    /// The account.
    public var account: String { scope.account }
    /// The region.
    public var region: String { scope.region }
}
