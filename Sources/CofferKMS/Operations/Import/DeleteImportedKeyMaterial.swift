import CofferStore
import CofferWire

/// DeleteImportedKeyMaterial: the key's backing keys are deleted and it awaits an import again; its
/// KeyMaterialId stays, so only the same material can be imported. Allowed in every key state, as AWS
/// allows it.
public enum DeleteImportedKeyMaterial: KMSOperation {
    public static let name = "DeleteImportedKeyMaterial"
    public static let action = "kms:DeleteImportedKeyMaterial"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: DeleteImportedKeyMaterialRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: DeleteImportedKeyMaterialRequest, _ call: OperationCall
    ) async throws(KMSError) -> DeleteImportedKeyMaterialResponse {
        let key = try await call.kms.modify(try call.requiredKey(), requirement, writing: .material(nil)) {
            (key: inout KeyRecord) throws(KMSError) in
            try ImportRules.requireExternal(key, call)
            if let requested = input.keyMaterialId, requested != key.keyMaterialID {
                throw KMSError(.notFound, "Key material \(requested) is not found in \(call.arn(key.id)).")
            }
            // A key pending deletion stays so (AWS's key-state table); CancelKeyDeletion then finds no
            // material and returns it as PendingImport.
            if key.state != .pendingDeletion, key.state != .pendingReplicaDeletion { key.state = .pendingImport }
            key.validTo = nil
            key.expirationModel = nil
        }
        return DeleteImportedKeyMaterialResponse(keyId: call.arn(key.id), keyMaterialId: key.keyMaterialID)
    }
}
