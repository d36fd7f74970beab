import CofferStore
import CofferWire

/// ListKeys: the keys of the caller's account and region, a page at a time.
public enum ListKeys: KMSOperation {
    public static let name = "ListKeys"
    public static let action = "kms:ListKeys"
    public static let requirement = KeyRequirement.none

    public static func run(_ input: ListKeysRequest, _ call: OperationCall) async throws(KMSError) -> ListKeysResponse {
        let (size, after) = try OperationRules.page(limit: input.limit, marker: input.marker)
        let scope = call.context.scope
        let records = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.listKeys(scope, after: after, limit: size + 1)
        }
        let page = OperationRules.page(records, size: size, sortKey: \.id)
        return ListKeysResponse(
            keys: page.items.map { KeyListEntry(keyId: $0.id, keyArn: call.arn($0.id)) }, nextMarker: page.nextMarker,
            truncated: page.truncated)
    }
}
