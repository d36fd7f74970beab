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
        let now = call.kms.clock()
        let scope = call.context.scope
        let alias = AliasRecord(
            scope: scope, name: input.aliasName, keyID: key.id, creationDate: now, lastUpdatedDate: now)
        do {
            try await call.kms.store.createAlias(alias)
        } catch {
            if error.code == .alreadyExists {
                throw KMSError(
                    .alreadyExists,
                    "An alias with the name \(KMSService.aliasARN(input.aliasName, in: scope)) already exists")
            }
            throw KMSError(.internal, "the key store failed")
        }
        return NoOutput()
    }
}

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
        let scope = call.context.scope
        guard
            var alias = try await call.kms.storeCall({ () throws(StoreError) in
                try await call.kms.store.alias(scope, name: input.aliasName)
            })
        else { throw KMSError(.notFound, "Alias \(KMSService.aliasARN(input.aliasName, in: scope)) is not found.") }
        if let current = try await call.kms.storeCall({ () throws(StoreError) in
            try await call.kms.store.key(scope, id: alias.keyID)
        }), current.keySpec != key.keySpec || current.keyUsage != key.keyUsage {
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

/// DeleteAlias: the name goes; the key stays.
public enum DeleteAlias: KMSOperation {
    public static let name = "DeleteAlias"
    public static let action = "kms:DeleteAlias"
    public static let requirement = KeyRequirement.none

    public static func validate(_ input: DeleteAliasRequest) throws(KMSError) {
        try OperationRules.checkAliasName(input.aliasName)
    }

    public static func run(_ input: DeleteAliasRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let scope = call.context.scope
        do {
            try await call.kms.store.deleteAlias(scope, name: input.aliasName)
        } catch {
            if error.code == .notFound {
                throw KMSError(.notFound, "Alias \(KMSService.aliasARN(input.aliasName, in: scope)) is not found.")
            }
            throw KMSError(.internal, "the key store failed")
        }
        return NoOutput()
    }
}

/// ListAliases: the aliases of the caller's account and region (of one key, or all), a page at a time.
public enum ListAliases: KMSOperation {
    public static let name = "ListAliases"
    public static let action = "kms:ListAliases"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListAliasesRequest) -> KeyReference? { input.keyId.map { .named($0) } }

    public static func run(
        _ input: ListAliasesRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListAliasesResponse
    {
        let (size, after) = try OperationRules.page(limit: input.limit, marker: input.marker)
        let scope = call.context.scope
        let keyID = call.key?.id
        let records = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.listAliases(scope, keyID: keyID, after: after, limit: size + 1)
        }
        let page = records.prefix(size)
        let truncated = records.count > size
        return ListAliasesResponse(
            aliases: page.map {
                AliasListEntry(
                    aliasName: $0.name, aliasArn: KMSService.aliasARN($0.name, in: scope), targetKeyId: $0.keyID,
                    creationDate: Double($0.creationDate), lastUpdatedDate: Double($0.lastUpdatedDate))
            },
            nextMarker: truncated ? page.last.map { OperationRules.encodeMarker($0.name) } : nil, truncated: truncated)
    }
}
