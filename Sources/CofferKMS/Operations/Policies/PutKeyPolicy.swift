import CofferStore
import CofferWire

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
        let key = try call.requiredKey()
        try await OperationRules.checkLockout(
            input.policy, keyARN: call.arn(key.id), bypass: input.bypassPolicyLockoutSafetyCheck, call)
        try await call.kms.modify(key, requirement) { (key: inout KeyRecord) throws(KMSError) in
            key.policy = input.policy
        }
        return NoOutput()
    }
}
