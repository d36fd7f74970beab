import CofferStore
import CofferWire

/// TagResource: adds or replaces tags on a key.
public enum TagResource: KMSOperation {
    public static let name = "TagResource"
    public static let action = "kms:TagResource"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: TagResourceRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: TagResourceRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        let tags = try OperationRules.tags(input.tags)
        let existing = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.tags(key.scope, of: key.id)
        }
        guard Set(existing.map(\.key)).union(tags.map(\.key)).count <= KMSService.Limits.tagsPerKey else {
            throw KMSError(.limitExceeded, "A key has at most \(KMSService.Limits.tagsPerKey) tags")
        }
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.setTags(tags, on: key.id, in: key.scope)
        }
        return NoOutput()
    }
}

/// UntagResource: removes tags by key.
public enum UntagResource: KMSOperation {
    public static let name = "UntagResource"
    public static let action = "kms:UntagResource"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: UntagResourceRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: UntagResourceRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.removeTags(input.tagKeys, from: key.id, in: key.scope)
        }
        return NoOutput()
    }
}

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
        let rest = tags.filter { after == nil || $0.key > after ?? "" }
        let page = rest.prefix(size)
        let truncated = rest.count > size
        return ListResourceTagsResponse(
            tags: page.map { Tag(tagKey: $0.key, tagValue: $0.value) },
            nextMarker: truncated ? page.last.map { OperationRules.encodeMarker($0.key) } : nil, truncated: truncated)
    }
}
