import CofferStore
import CofferWire

/// UpdateAlias: an existing alias points at another key of the same scope.
public enum UpdateAlias: KMSOperation {
    public static let name = "UpdateAlias"
    public static let action = "kms:UpdateAlias"
    public static let requirement = KeyRequirement.changeable

    public static func validate(_ input: UpdateAliasRequest) throws(KMSError) {
        try OperationRules.checkAliasName(input.aliasName)
    }

    public static func key(in input: UpdateAliasRequest) -> KeyReference? { .named(input.targetKeyId) }

    public static func run(_ input: UpdateAliasRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        try await OperationRules.authorizeAlias(input.aliasName, action: action, call)
        let scope = call.context.scope
        guard
            var alias = try await call.kms.storeCall({ () throws(StoreError) in
                try await call.kms.store.alias(scope, name: input.aliasName)
            })
        else { throw KMSError(.notFound, "Alias \(KMSService.aliasARN(input.aliasName, in: scope)) is not found.") }
        // The alias moves away from its current key: that key's owner must allow it too, as in AWS.
        let current = try await call.otherKey(.named(alias.keyID), .any(aliases: false), action: action)
        guard current.keySpec == key.keySpec, current.keyUsage == key.keyUsage else {
            throw KMSError(
                .validation, "The alias must point to a key of the same key spec and key usage as its current key")
        }
        alias.keyID = key.id
        alias.lastUpdatedDate = call.kms.clock()
        let updated = alias
        try await call.kms.storeCall { () throws(StoreError) in try await call.kms.store.updateAlias(updated) }
        return NoOutput()
    }
}
