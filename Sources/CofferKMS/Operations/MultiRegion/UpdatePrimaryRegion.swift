import CofferStore
import CofferWire

/// UpdatePrimaryRegion: the replica in `PrimaryRegion` becomes the primary of its multi-Region key and
/// the current primary a replica, in one store transaction; key material and states are unchanged.
public enum UpdatePrimaryRegion: KMSOperation {
    public static let name = "UpdatePrimaryRegion"
    public static let action = "kms:UpdatePrimaryRegion"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: UpdatePrimaryRegionRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: UpdatePrimaryRegionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> NoOutput
    {
        let primary = try MultiRegionRules.primary(try call.requiredKey(), call)
        guard input.primaryRegion != primary.scope.region else { return NoOutput() }
        let related = try await call.kms.related(primary)
        guard let target = related.first(where: { $0.scope.region == input.primaryRegion }) else {
            let missing = KeyScope(account: primary.scope.account, region: input.primaryRegion)
            throw KMSError(.notFound, "Key '\(KMSService.keyARN(primary.id, in: missing))' does not exist")
        }
        // AWS authorizes the call on both keys, each in its own region, and the new primary must be
        // changeable as the old one is (not pending deletion).
        var targetContext = call.context
        targetContext.scope = target.scope
        try await call.kms.require(
            AuthorizationInput(action: action, key: target, context: targetContext))
        try call.kms.check(target, .changeable, in: target.scope)
        try await call.kms.updatePrimaryRegion(of: primary, to: input.primaryRegion)
        return NoOutput()
    }
}
