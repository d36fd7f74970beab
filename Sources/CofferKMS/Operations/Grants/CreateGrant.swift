import CofferStore
import CofferWire

/// CreateGrant: lets a grantee principal use the key for some operations, optionally only under an
/// encryption context (EncryptionContextEquals / EncryptionContextSubset), until the grant is retired or
/// revoked. The grant takes effect at once. A Name makes the call idempotent: the same name and terms
/// answer the same grant.
public enum CreateGrant: KMSOperation {
    public static let name = "CreateGrant"
    public static let action = "kms:CreateGrant"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: CreateGrantRequest) -> KeyReference? { .named(input.keyId) }

    public static func conditions(_ input: CreateGrantRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.keys["kms:grantoperations"] = input.operations.map(\.rawValue)
        conditions.set("kms:GranteePrincipal", input.granteePrincipal)
        conditions.set("kms:RetiringPrincipal", input.retiringPrincipal)
        conditions.set("kms:GrantIsForAWSResource", "false")
        if let constraints = input.constraints {
            conditions.keys["kms:grantconstrainttype"] =
                (constraints.encryptionContextEquals != nil ? ["EncryptionContextEquals"] : [])
                + (constraints.encryptionContextSubset != nil ? ["EncryptionContextSubset"] : [])
        }
        return conditions
    }

    public static func run(
        _ input: CreateGrantRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> CreateGrantResponse
    {
        let key = try call.requiredKey()
        guard !input.operations.isEmpty else {
            throw KMSError(.validation, "A grant must allow at least one operation.")
        }
        let refused = Set(input.operations).subtracting(GrantRules.allowed(for: key))
        guard refused.isEmpty else {
            throw KMSError(
                .validation,
                "Grant operations \(refused.map(\.rawValue).sorted()) are not valid for \(call.arn(key.id)) "
                    + "(\(key.keySpec), \(key.keyUsage)).")
        }
        if input.constraints != nil, !Set(input.operations).isSubset(of: GrantRules.contextOperations) {
            throw KMSError(
                .validation, "Grant constraints are valid only for operations that take an encryption context.")
        }
        let existing = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.grants(key.scope, of: key.id, after: nil, limit: GrantRules.perKey + 1)
        }
        if let parentID = call.decision?.grantID {
            // Allowed by a grant that allows CreateGrant: the new grant stays within that grant's terms.
            guard let parent = existing.first(where: { $0.grantID == parentID }),
                GrantRules.within(parent, operations: input.operations, constraints: input.constraints)
            else {
                throw KMSError(
                    .accessDenied,
                    "User: \(call.context.principal) is not authorized to perform: kms:CreateGrant on resource: "
                        + "\(call.arn(key.id)) beyond the operations and constraints of grant \(parentID)")
            }
        }
        guard existing.count < GrantRules.perKey else {
            throw KMSError(.limitExceeded, "\(call.arn(key.id)) has \(GrantRules.perKey) grants, the most it may hold.")
        }
        let grant = GrantRecord(
            scope: key.scope, keyID: key.id, grantID: GrantRules.newID(), name: input.name,
            grantee: input.granteePrincipal, retiringPrincipal: input.retiringPrincipal,
            issuer: call.context.principal, operations: input.operations.map(\.rawValue),
            contextEquals: GrantRules.stored(input.constraints?.encryptionContextEquals),
            contextSubset: GrantRules.stored(input.constraints?.encryptionContextSubset),
            creationDate: call.kms.clock())
        if let name = input.name {
            if let same = existing.first(where: {
                $0.name == name && $0.grantee == grant.grantee && $0.retiringPrincipal == grant.retiringPrincipal
                    && Set($0.operations) == Set(grant.operations) && $0.contextEquals == grant.contextEquals
                    && $0.contextSubset == grant.contextSubset
            }) {
                try call.proceed()
                return CreateGrantResponse(grantToken: GrantRules.token(same), grantId: same.grantID)
            }
        }
        try call.proceed()
        try await call.kms.storeCall { () throws(StoreError) in try await call.kms.store.createGrant(grant) }
        return CreateGrantResponse(grantToken: GrantRules.token(grant), grantId: grant.grantID)
    }
}
