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
        let key = try await call.kms.modify(try call.requiredKey(), requirement) {
            (key: inout KeyRecord) async throws(KMSError) in
            // A key of imported material whose material is gone awaits an import again (AWS's table).
            let hasMaterial = try await !call.kms.backingKeys(of: key).isEmpty
            key.state = hasMaterial ? .disabled : .pendingImport
            key.deletionDate = nil
            key.pendingWindowDays = nil
        }
        return CancelKeyDeletionResponse(keyId: call.arn(key.id))
    }
}
