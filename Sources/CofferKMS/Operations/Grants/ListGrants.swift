import CofferStore
import CofferWire

/// ListGrants: the key's grants by grant id, a page at a time, optionally one grant or one grantee's.
public enum ListGrants: KMSOperation {
    public static let name = "ListGrants"
    public static let action = "kms:ListGrants"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListGrantsRequest) -> KeyReference? { .named(input.keyId) }

    public static func validate(_ input: ListGrantsRequest) throws(KMSError) {
        try GrantRules.checkMarker(input.marker)
        if let grantID = input.grantId, !GrantRules.isGrantID(grantID) {
            throw KMSError(.invalidGrantID, "Invalid grant id: \(grantID)")
        }
    }

    public static func run(
        _ input: ListGrantsRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListGrantsResponse
    {
        let key = try call.requiredKey()
        let limit = min(input.limit ?? 50, GrantRules.pageLimit)
        var page: [GrantRecord] = []
        var marker = input.marker
        // Filters apply within the key's grants, so a page is filled from as many reads as it takes.
        while page.count <= limit {
            let after = marker
            let batch = try await call.kms.storeCall { () throws(StoreError) in
                try await call.kms.store.grants(key.scope, of: key.id, after: after, limit: 500)
            }
            page += batch.filter {
                (input.grantId == nil || $0.grantID == input.grantId)
                    && (input.granteePrincipal == nil || $0.grantee == input.granteePrincipal)
            }
            guard batch.count == 500, let last = batch.last else { break }
            marker = last.grantID
        }
        let truncated = page.count > limit
        let shown = Array(page.prefix(limit))
        return ListGrantsResponse(
            grants: shown.map(GrantRules.entry), nextMarker: truncated ? shown.last?.grantID : nil,
            truncated: truncated)
    }
}
