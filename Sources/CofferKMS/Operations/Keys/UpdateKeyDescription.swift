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
        var key = try call.requiredKey()
        key.description = input.description
        try await call.kms.save(key)
        return NoOutput()
    }
}
