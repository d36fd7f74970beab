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
