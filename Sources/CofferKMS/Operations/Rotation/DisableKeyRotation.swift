import CofferStore
import CofferWire

/// DisableKeyRotation.
public enum DisableKeyRotation: KMSOperation {
    public static let name = "DisableKeyRotation"
    public static let action = "kms:DisableKeyRotation"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: DisableKeyRotationRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: DisableKeyRotationRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput
    {
        var key = try Rotation.rotatable(try call.requiredKey(), call)
        key.rotationEnabled = false
        key.nextRotationDate = nil
        try await call.kms.save(key)
        return NoOutput()
    }
}
