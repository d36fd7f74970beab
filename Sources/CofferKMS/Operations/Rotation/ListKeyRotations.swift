import CofferStore
import CofferWire

/// ListKeyRotations: every completed rotation of a key, oldest first, a page at a time.
public enum ListKeyRotations: KMSOperation {
    public static let name = "ListKeyRotations"
    public static let action = "kms:ListKeyRotations"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListKeyRotationsRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ListKeyRotationsRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListKeyRotationsResponse
    {
        let key = try Rotation.rotatable(try call.requiredKey(), call, changing: false)
        let (size, after) = try OperationRules.page(limit: input.limit, marker: input.marker)
        let backing = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.backingKeys(key.scope, of: key.id)
        }
        let rotations = backing.reversed().filter { $0.origin != .creation }
        let start: Int
        if let after {
            guard let index = rotations.firstIndex(where: { $0.backingKeyID == after }) else {
                throw KMSError(.invalidMarker, "Invalid marker")
            }
            start = index + 1
        } else {
            start = 0
        }
        let page = rotations.dropFirst(start).prefix(size)
        let truncated = rotations.count > start + size
        return ListKeyRotationsResponse(
            rotations: page.map {
                RotationsListEntry(
                    keyId: key.id, rotationDate: Double($0.createdAt),
                    rotationType: $0.origin == .automatic ? .automatic : .onDemand)
            },
            nextMarker: truncated ? page.last.map { OperationRules.encodeMarker($0.backingKeyID) } : nil,
            truncated: truncated)
    }
}
