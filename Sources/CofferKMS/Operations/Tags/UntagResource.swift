import CofferStore
import CofferWire

/// UntagResource: removes tags by key.
public enum UntagResource: KMSOperation {
    public static let name = "UntagResource"
    public static let action = "kms:UntagResource"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: UntagResourceRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: UntagResourceRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let key = try call.requiredKey()
        // A key has at most 50 tags: only those of them named go, however long the list is.
        let named = Set(input.tagKeys.map { Array($0.utf8) })
        let existing = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.tags(key.scope, of: key.id)
        }
        let removed = existing.map(\.key).filter { named.contains(Array($0.utf8)) }
        guard !removed.isEmpty else { return NoOutput() }
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.removeTags(removed, from: key.id, in: key.scope)
        }
        return NoOutput()
    }
}
