import CofferStore
import CofferWire

/// RetireGrant: ends a grant named by its token, or by KeyId and GrantId. AWS lets three principals do it
/// whatever any policy says: the grant's retiring principal, its grantee when the grant allows
/// RetireGrant, and the account root of the key's account; anyone else is AccessDeniedException.
public enum RetireGrant: KMSOperation {
    public static let name = "RetireGrant"
    public static let action = "kms:RetireGrant"
    public static let requirement = KeyRequirement.none
    public static var authorizedByPolicy: Bool { false }

    public static func validate(_ input: RetireGrantRequest) throws(KMSError) {
        if let grantID = input.grantId, !GrantRules.isGrantID(grantID) {
            throw KMSError(.invalidGrantID, "Invalid grant id: \(grantID)")
        }
        guard input.grantToken != nil || (input.keyId != nil && input.grantId != nil) else {
            throw KMSError(.validation, "Specify a GrantToken, or a KeyId and a GrantId.")
        }
    }

    public static func run(_ input: RetireGrantRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        let scope: KeyScope
        let keyID: String
        let grantID: String
        if let token = input.grantToken {
            guard let reference = GrantRules.reference(token), reference.scope == call.context.scope else {
                throw KMSError(.invalidGrantToken, "The grant token is not valid.")
            }
            (scope, keyID, grantID) = reference
        } else {
            let key = try await call.kms.find(input.keyId ?? "", aliases: false, in: call.context.scope)
            (scope, keyID, grantID) = (key.scope, key.id, input.grantId ?? "")
        }
        let found = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.grant(scope, keyID: keyID, grantID: grantID)
        }
        guard let grant = found else {
            throw KMSError(.notFound, "Grant \(grantID) of \(KMSService.keyARN(keyID, in: scope)) is not found.")
        }
        let principal = call.context.principal
        let allowed =
            principal == grant.retiringPrincipal
            || (principal == grant.grantee && grant.operations.contains(GrantOperation.retireGrant.rawValue))
            || principal == "arn:aws:iam::\(scope.account):root"
        guard allowed else {
            throw KMSError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: kms:RetireGrant on resource: "
                    + "\(KMSService.keyARN(keyID, in: scope)) because it is not the grant's retiring principal")
        }
        try call.proceed()
        try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.deleteGrant(scope, keyID: keyID, grantID: grantID)
        }
        return NoOutput()
    }
}
