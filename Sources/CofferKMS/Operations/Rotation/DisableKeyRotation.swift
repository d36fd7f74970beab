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
        try await call.kms.modify(try call.requiredKey(), requirement) { (key: inout KeyRecord) throws(KMSError) in
            key = try Rotation.rotatable(key, call)
            key.rotationEnabled = false
            key.nextRotationDate = nil
        }
        return NoOutput()
    }
}
