import CofferStore
import CofferWire

/// GetKeyPolicy: the key's policy (its only policy name is `default`).
public enum GetKeyPolicy: KMSOperation {
    public static let name = "GetKeyPolicy"
    public static let action = "kms:GetKeyPolicy"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: GetKeyPolicyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetKeyPolicyRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GetKeyPolicyResponse
    {
        let key = try call.requiredKey()
        guard (input.policyName ?? "default") == "default" else {
            throw KMSError(.notFound, "No such policy \(input.policyName ?? "") exists")
        }
        return GetKeyPolicyResponse(policy: key.policy, policyName: "default")
    }
}

/// PutKeyPolicy: replaces the key's policy (the key is found first, then the policy checked, as AWS
/// does).
public enum PutKeyPolicy: KMSOperation {
    public static let name = "PutKeyPolicy"
    public static let action = "kms:PutKeyPolicy"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: PutKeyPolicyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: PutKeyPolicyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        guard (input.policyName ?? "default") == "default" else {
            throw KMSError(.validation, "The policy name must be default")
        }
        try OperationRules.checkPolicy(input.policy)
        var key = try call.requiredKey()
        key.policy = input.policy
        try await call.kms.save(key)
        return NoOutput()
    }
}

/// ListKeyPolicies: always `["default"]`.
public enum ListKeyPolicies: KMSOperation {
    public static let name = "ListKeyPolicies"
    public static let action = "kms:ListKeyPolicies"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListKeyPoliciesRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ListKeyPoliciesRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListKeyPoliciesResponse
    {
        _ = try OperationRules.page(limit: input.limit, marker: input.marker)
        return ListKeyPoliciesResponse(policyNames: ["default"], truncated: false)
    }
}
