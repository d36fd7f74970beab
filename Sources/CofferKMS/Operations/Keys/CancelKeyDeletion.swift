import CofferStore
import CofferWire

/// CancelKeyDeletion: the key returns as Disabled, as in AWS.
public enum CancelKeyDeletion: KMSOperation {
    public static let name = "CancelKeyDeletion"
    public static let action = "kms:CancelKeyDeletion"
    public static let requirement = KeyRequirement.pendingDeletion

    public static func key(in input: CancelKeyDeletionRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: CancelKeyDeletionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> CancelKeyDeletionResponse
    {
        var key = try call.requiredKey()
        key.state = .disabled
        key.deletionDate = nil
        try await call.kms.save(key)
        return CancelKeyDeletionResponse(keyId: call.arn(key.id))
    }
}
