import CofferStore
import CofferWire

/// RotateKeyOnDemand: a new backing key encrypts from now on; older ones still decrypt.
public enum RotateKeyOnDemand: KMSOperation {
    public static let name = "RotateKeyOnDemand"
    public static let action = "kms:RotateKeyOnDemand"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: RotateKeyOnDemandRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: RotateKeyOnDemandRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> RotateKeyOnDemandResponse
    {
        let key = try Rotation.rotatable(try call.requiredKey(), call)
        try await call.kms.rotate(key, origin: .onDemand)
        return RotateKeyOnDemandResponse(keyId: key.id)
    }
}
