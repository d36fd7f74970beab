import CofferStore
import CofferWire

/// ListResourceTags: a key's tags by tag key, a page at a time.
public enum ListResourceTags: KMSOperation {
    public static let name = "ListResourceTags"
    public static let action = "kms:ListResourceTags"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListResourceTagsRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ListResourceTagsRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListResourceTagsResponse
    {
        let key = try call.requiredKey()
        let (size, after) = try OperationRules.page(limit: input.limit, marker: input.marker)
        let tags = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.tags(key.scope, of: key.id)
        }
        // SQLite orders tag keys by their UTF-8 bytes; so does the marker (String's < would not).
        let rest = tags.filter { tag in after.map { $0.utf8.lexicographicallyPrecedes(tag.key.utf8) } ?? true }
        let page = OperationRules.page(Array(rest.prefix(size + 1)), size: size, sortKey: \.key)
        return ListResourceTagsResponse(
            tags: page.items.map { Tag(tagKey: $0.key, tagValue: $0.value) }, nextMarker: page.nextMarker,
            truncated: page.truncated)
    }
}
