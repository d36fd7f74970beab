import CofferStore
import CofferWire

/// CreateAlias: a new name, in the caller's account and region, for a key of the same scope.
public enum CreateAlias: KMSOperation {
    public static let name = "CreateAlias"
    public static let action = "kms:CreateAlias"
    public static let requirement = KeyRequirement.changeable

    public static func validate(_ input: CreateAliasRequest) throws(KMSError) {
        try OperationRules.checkAliasName(input.aliasName)
    }

    public static func key(in input: CreateAliasRequest) -> KeyReference? { .named(input.targetKeyId) }

    public static func run(_ input: CreateAliasRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        try await OperationRules.authorizeAlias(input.aliasName, action: action, call)
        let now = call.kms.clock()
        let scope = call.context.scope
        let alias = AliasRecord(
            scope: scope, name: input.aliasName, keyID: key.id, creationDate: now, lastUpdatedDate: now)
        do {
            try await call.kms.store.createAlias(alias)
        } catch {
            guard error.code == .alreadyExists else { throw KMSError(.internal, "the key store failed") }
            throw KMSError(
                .alreadyExists,
                "An alias with the name \(KMSService.aliasARN(input.aliasName, in: scope)) already exists")
        }
        return NoOutput()
    }
}
