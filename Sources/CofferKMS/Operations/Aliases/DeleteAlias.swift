import CofferStore
import CofferWire

/// DeleteAlias: the name goes; the key stays.
public enum DeleteAlias: KMSOperation {
    public static let name = "DeleteAlias"
    public static let action = "kms:DeleteAlias"
    public static let requirement = KeyRequirement.none

    /// The pipeline authorizes the alias side (identity policies, the alias's ARN); `run` the key side.
    public static func resource(in input: DeleteAliasRequest, scope: KeyScope) -> String? {
        KMSService.aliasARN(input.aliasName, in: scope)
    }

    public static func validate(_ input: DeleteAliasRequest) throws(KMSError) {
        try OperationRules.checkAliasName(input.aliasName)
    }

    public static func run(_ input: DeleteAliasRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let scope = call.context.scope
        guard
            let alias = try await call.kms.storeCall({ () throws(StoreError) in
                try await call.kms.store.alias(scope, name: input.aliasName)
            })
        else { throw KMSError(.notFound, "Alias \(KMSService.aliasARN(input.aliasName, in: scope)) is not found.") }
        // Authorized on the key the alias names too, as AWS authorizes DeleteAlias.
        _ = try await call.otherKey(.named(alias.keyID), .any(aliases: false), action: action)
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.deleteAlias(scope, name: input.aliasName)
        }
        return NoOutput()
    }
}
