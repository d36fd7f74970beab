import CofferStore
import CofferWire

/// ListRetirableGrants: the grants of the caller's account and region that a principal may retire.
public enum ListRetirableGrants: KMSOperation {
    public static let name = "ListRetirableGrants"
    public static let action = "kms:ListRetirableGrants"
    public static let requirement = KeyRequirement.none

    public static func validate(_ input: ListRetirableGrantsRequest) throws(KMSError) {
        try GrantRules.checkMarker(input.marker)
    }

    public static func run(
        _ input: ListRetirableGrantsRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListGrantsResponse
    {
        let limit = min(input.limit ?? 50, GrantRules.pageLimit)
        let principal = input.retiringPrincipal
        let marker = input.marker
        let page = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.retirableGrants(
                call.context.scope, retiringPrincipal: principal, after: marker, limit: limit + 1)
        }
        let truncated = page.count > limit
        let shown = Array(page.prefix(limit))
        return ListGrantsResponse(
            grants: shown.map(GrantRules.entry), nextMarker: truncated ? shown.last?.grantID : nil,
            truncated: truncated)
    }
}
