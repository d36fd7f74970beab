import CofferStore
import CofferWire

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
