import CofferStore
import CofferWire

/// ReplicateKey: a replica of a multi-Region primary key in another region of the same account, with
/// the same key id and key material (copies of the primary's backing-key tokens, which any HSM of the
/// domain opens); its policy, description and tags are its own. A primary of imported material is
/// replicated without material: the replica awaits an import of the same material.
public enum ReplicateKey: KMSOperation {
    public static let name = "ReplicateKey"
    public static let action = "kms:ReplicateKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: ReplicateKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ReplicateKeyRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ReplicateKeyResponse
    {
        let primary = try MultiRegionRules.primary(try call.requiredKey(), call)
        if let policy = input.policy {
            try OperationRules.checkPolicy(policy)
            let replicaARN = KMSService.keyARN(
                primary.id, in: KeyScope(account: primary.scope.account, region: input.replicaRegion))
            try await OperationRules.checkLockout(
                policy, keyARN: replicaARN, bypass: input.bypassPolicyLockoutSafetyCheck, call)
        }
        let tags = try OperationRules.tags(input.tags)
        // AWS authorizes kms:CreateKey (and kms:TagResource for tags) in the replica's region too.
        var replicaContext = call.context
        replicaContext.scope = KeyScope(account: primary.scope.account, region: input.replicaRegion)
        try await call.kms.require(
            AuthorizationInput(action: "kms:CreateKey", key: nil, context: replicaContext))
        if !tags.isEmpty {
            try await call.kms.require(
                AuthorizationInput(action: "kms:TagResource", key: nil, context: replicaContext))
        }
        // The store refuses a region that has the key already (AlreadyExistsException), in its transaction.
        let replica = try await call.kms.createReplica(
            of: primary, in: input.replicaRegion, description: input.description ?? "", policy: input.policy,
            tags: tags)
        return ReplicateKeyResponse(
            replicaKeyMetadata: try await call.kms.metadata(of: replica),
            replicaPolicy: replica.policy,
            replicaTags: tags.map { Tag(tagKey: $0.key, tagValue: $0.value) })
    }
}
