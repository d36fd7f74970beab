import CofferStore
import CofferWire

/// GetKeyRotationStatus: whether automatic rotation is on, its period and next date; the key id, as AWS
/// answers it.
public enum GetKeyRotationStatus: KMSOperation {
    public static let name = "GetKeyRotationStatus"
    public static let action = "kms:GetKeyRotationStatus"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: GetKeyRotationStatusRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetKeyRotationStatusRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GetKeyRotationStatusResponse
    {
        let key = try call.requiredKey()
        return GetKeyRotationStatusResponse(
            keyRotationEnabled: key.rotationEnabled, keyId: key.id,
            rotationPeriodInDays: key.rotationEnabled ? key.rotationPeriodDays : nil,
            nextRotationDate: key.rotationEnabled ? key.nextRotationDate.map(Double.init) : nil)
    }
}
