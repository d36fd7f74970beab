import CofferPolicy
import CofferStore
import Foundation
import Synchronization

/// Access control as AWS KMS does it (``PolicyEvaluator``): the key's policy, the caller's identity
/// policies and, later, the key's grants. Key policies are parsed once per distinct text and kept in a
/// bounded cache, so a request pays only the evaluation. A stored key policy that no longer parses
/// allows nothing (it was accepted before policies were read strictly).
public final class PolicyAuthorizer: Authorizer {
    /// The largest number of distinct key policies kept parsed.
    public static let cacheLimit = 4_096

    private let clock: @Sendable () -> Int64
    private let cache = Mutex<[String: PolicyDocument?]>([:])

    /// An authorizer; `clock` gives seconds since 1970 for `aws:CurrentTime`. The caller's identity
    /// policies come with each request (``RequestContext/identityPolicies``).
    public init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    public func authorize(_ input: AuthorizationInput) async throws(KMSError) -> Decision {
        let context = input.context
        let resource = input.resource ?? input.key.map { KMSService.keyARN($0.id, in: $0.scope) } ?? "*"
        var keyPolicy: PolicyDocument?
        if let key = input.key {
            guard let parsed = document(key.policy) else {
                return Self.denied(
                    input, resource, by: "unreadable key policy", "because the key policy cannot be read")
            }
            keyPolicy = parsed
        }
        let identity = context.identityPolicies
        // Condition keys are built only when some policy tests one (the default policy tests none).
        let documents = (keyPolicy.map { [$0] } ?? []) + identity
        var keys: [String: [String]] = [:]
        if let ambiguous = input.conditions.ambiguousKeys.first(where: { name in
            documents.contains { $0.usesConditionKey(name) }
        }) {
            return Self.denied(
                input, resource, by: "ambiguous \(ambiguous)",
                "because its encryption context has keys that differ only in case, which \(ambiguous) cannot tell apart"
            )
        }
        if documents.contains(where: { !$0.conditionKeys.isEmpty }) {
            keys = input.conditions.keys
            keys["aws:principalarn"] = [PolicyPrincipal.policyARN(of: context.principal)]
            keys["kms:calleraccount"] = [context.account]
            keys["aws:securetransport"] = [context.secureTransport ? "true" : "false"]
            keys["aws:currenttime"] = [Self.iso8601(clock())]
            if let address = context.sourceAddress { keys["aws:sourceip"] = [address] }
            if let alias = input.requestAlias { keys["kms:requestalias"] = [alias] }
            if let key = input.key {
                keys["kms:keyspec"] = [key.keySpec]
                keys["kms:keyusage"] = [key.keyUsage]
                keys["kms:keyorigin"] = [key.origin]
                keys["kms:multiregion"] = [key.isMultiRegion ? "true" : "false"]
                if key.isMultiRegion { keys["kms:multiregionkeytype"] = [key.isReplica ? "REPLICA" : "PRIMARY"] }
                if documents.contains(where: { $0.usesConditionKey("kms:resourcealiases") }) {
                    guard let aliases = await input.resourceAliases() else {
                        return Self.denied(
                            input, resource, by: "unreadable aliases", "because its aliases cannot be read")
                    }
                    keys["kms:resourcealiases"] = aliases
                }
            }
        }
        let request = AuthorizationRequest(
            action: input.action, principal: context.principal, account: context.account, resource: resource,
            conditionKeys: keys, encryptionContext: input.conditions.encryptionContext)
        var outcome = PolicyEvaluator.evaluate(request, keyPolicy: keyPolicy, identityPolicies: identity)
        if outcome == .implicitDeny, input.key != nil {
            // Grants are read only when no policy allows the request (and no Deny refused it).
            let grants = await input.grants()
            if !grants.isEmpty {
                outcome = PolicyEvaluator.evaluate(
                    request, keyPolicy: keyPolicy, identityPolicies: identity, grants: grants)
            }
        }
        switch outcome {
        case .allowed(let rule):
            var decision = Decision(decidedBy: rule)
            if rule.hasPrefix("grant ") { decision.grantID = String(rule.dropFirst("grant ".count)) }
            return decision
        case .explicitDeny(let rule):
            let kind = rule.hasPrefix("key policy") ? "resource-based policy" : "identity-based policy"
            return Self.denied(input, resource, by: rule, "with an explicit deny in a \(kind)")
        case .implicitDeny:
            let reason =
                input.key == nil
                ? "because no identity-based policy allows the \(input.action) action"
                : "because no resource-based policy allows the \(input.action) action"
            return Self.denied(input, resource, by: "no statement or grant allows it", reason)
        }
    }

    public func keepsPolicyAccess(_ policy: String, keyARN: String, context: RequestContext) async -> Bool {
        guard let document = try? PolicyDocument(json: policy, kind: .keyPolicy) else { return false }
        let request = AuthorizationRequest(
            action: "kms:PutKeyPolicy", principal: context.principal, account: context.account, resource: keyARN,
            conditionKeys: [
                "aws:principalarn": [PolicyPrincipal.policyARN(of: context.principal)],
                "kms:calleraccount": [context.account],
                "aws:securetransport": [context.secureTransport ? "true" : "false"],
                "aws:currenttime": [Self.iso8601(clock())],
            ])
        return PolicyEvaluator.evaluate(
            request, keyPolicy: document, identityPolicies: context.identityPolicies
        ).isAllowed
    }

    /// The parsed key policy of `text`, from the cache (nil: the text does not parse).
    private func document(_ text: String) -> PolicyDocument? {
        if let cached = cache.withLock({ $0[text] }) { return cached }
        let parsed = try? PolicyDocument(json: text, kind: .keyPolicy)
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[text] = .some(parsed)
        }
        return parsed
    }

    /// A refusal with AWS's AccessDeniedException message.
    private static func denied(
        _ input: AuthorizationInput, _ resource: String, by rule: String, _ reason: String
    ) -> Decision {
        .deny(
            by: rule,
            message:
                "User: \(input.context.principal) is not authorized to perform: \(input.action) on resource: \(resource) \(reason)"
        )
    }

    private static func iso8601(_ seconds: Int64) -> String { PolicyTime.iso8601(seconds) }
}
