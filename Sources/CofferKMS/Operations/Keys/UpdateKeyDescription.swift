import CofferStore
import CofferWire

/// UpdateKeyDescription.
public enum UpdateKeyDescription: KMSOperation {
    public static let name = "UpdateKeyDescription"
    public static let action = "kms:UpdateKeyDescription"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: UpdateKeyDescriptionRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: UpdateKeyDescriptionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> NoOutput
    {
        try await call.kms.modify(try call.requiredKey(), requirement) { (key: inout KeyRecord) throws(KMSError) in
            key.description = input.description
        }
        return NoOutput()
    }
}
