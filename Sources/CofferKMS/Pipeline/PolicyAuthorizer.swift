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
        // Only the condition keys some policy tests are built (the default policy tests none).
        var keys: [String: [String]] = [:]
        for index in -1..<identity.count {
            guard let document = index < 0 ? keyPolicy : identity[index], !document.conditionKeys.isEmpty else {
                continue
            }
            if let ambiguous = input.conditions.ambiguousKeys.first(where: document.usesConditionKey) {
                return Self.denied(
                    input, resource, by: "ambiguous \(ambiguous)",
                    "because its encryption context has keys that differ only in case, which \(ambiguous) cannot tell apart"
                )
            }
            // The service's own values first: a request can never supply a key the service sets.
            for name in document.conditionKeys where keys[name] == nil {
                if let value = conditionValue(name, input) {
                    keys[name] = [value]
                } else if name == "kms:resourcealiases", input.key != nil {
                    guard let aliases = await input.resourceAliases() else {
                        return Self.denied(
                            input, resource, by: "unreadable aliases", "because its aliases cannot be read")
                    }
                    keys[name] = aliases
                } else if let value = input.conditions.keys[name] {
                    keys[name] = value
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

    /// The value of a condition key the request itself carries: the caller, the transport, the time,
    /// the alias named and the key's properties; nil when the request has none.
    private func conditionValue(_ name: String, _ input: AuthorizationInput) -> String? {
        let context = input.context
        switch name {
        case "aws:principalarn": return PolicyPrincipal.policyARN(of: context.principal)
        case "kms:calleraccount": return context.account
        case "aws:securetransport": return context.secureTransport ? "true" : "false"
        case "aws:currenttime": return Self.iso8601(clock())
        case "aws:sourceip": return context.sourceAddress
        case "kms:requestalias": return input.requestAlias
        default: break
        }
        guard let key = input.key else { return nil }
        switch name {
        case "kms:keyspec": return key.keySpec
        case "kms:keyusage": return key.keyUsage
        case "kms:keyorigin": return key.origin
        case "kms:multiregion": return key.isMultiRegion ? "true" : "false"
        case "kms:multiregionkeytype": return key.isMultiRegion ? (key.isReplica ? "REPLICA" : "PRIMARY") : nil
        default: return nil
        }
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
