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
        guard Set((existing + tags).map { Array($0.key.utf8) }).count <= KMSService.Limits.tagsPerKey else {
            throw KMSError(.limitExceeded, "A key has at most \(KMSService.Limits.tagsPerKey) tags")
        }
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.setTags(tags, on: key.id, in: key.scope)
        }
        return NoOutput()
    }
}
