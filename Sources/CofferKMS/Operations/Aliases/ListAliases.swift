import CofferStore
import CofferWire

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
        let page = OperationRules.page(records, size: size, sortKey: \.name)
        return ListAliasesResponse(
            aliases: page.items.map {
                AliasListEntry(
                    aliasName: $0.name, aliasArn: KMSService.aliasARN($0.name, in: scope), targetKeyId: $0.keyID,
                    creationDate: Double($0.creationDate), lastUpdatedDate: Double($0.lastUpdatedDate))
            },
            nextMarker: page.nextMarker, truncated: page.truncated)
    }
}
