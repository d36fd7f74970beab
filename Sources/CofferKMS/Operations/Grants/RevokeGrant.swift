import CofferStore
import CofferWire

/// RevokeGrant: a key's administrator (authorized by the key policy) ends a grant at once.
public enum RevokeGrant: KMSOperation {
    public static let name = "RevokeGrant"
    public static let action = "kms:RevokeGrant"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: RevokeGrantRequest) -> KeyReference? { .named(input.keyId) }

    public static func validate(_ input: RevokeGrantRequest) throws(KMSError) {
        guard GrantRules.isGrantID(input.grantId) else {
            throw KMSError(.invalidGrantID, "Invalid grant id: \(input.grantId)")
        }
    }

    public static func run(_ input: RevokeGrantRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        let found = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.grant(key.scope, keyID: key.id, grantID: input.grantId)
        }
        guard found != nil else {
            throw KMSError(.notFound, "Grant \(input.grantId) of \(call.arn(key.id)) is not found.")
        }
        try call.proceed()
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.deleteGrant(key.scope, keyID: key.id, grantID: input.grantId)
        }
        return NoOutput()
    }
}
