import CofferStore
import CofferWire

/// EnableKeyRotation: automatic rotation every RotationPeriodInDays (90 … 2560, default 365).
public enum EnableKeyRotation: KMSOperation {
    public static let name = "EnableKeyRotation"
    public static let action = "kms:EnableKeyRotation"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: EnableKeyRotationRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EnableKeyRotationRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput
    {
        let days = input.rotationPeriodInDays ?? 365
        let next = call.kms.clock() + Int64(days) * 86_400
        try await call.kms.modify(try call.requiredKey(), requirement) { (key: inout KeyRecord) throws(KMSError) in
            key = try Rotation.rotatable(key, call)
            key.rotationEnabled = true
            key.rotationPeriodDays = days
            key.nextRotationDate = next
        }
        return NoOutput()
    }
}
