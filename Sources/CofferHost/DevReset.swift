import CofferJSON
import CofferKMS
import CofferPolicy
import CofferStore
import Logging

/// `coffer dev --allow-reset`'s signed `CofferDev.Reset` call (docs/testing-with-coffer.md): empties the
/// caller's own account, and with `{"Reseed": true}` creates that account's seeds again.
enum DevReset {
    /// The endpoint's reset handler.
    static func handler(
        kms: KMSService, seeds: [KeySeed], logger: Logger
    ) -> @Sendable ([UInt8], RequestContext) async throws(KMSError) -> Void {
        { (body: [UInt8], context: RequestContext) async throws(KMSError) in
            // No key policy stands between a reset and every key: only the account root, or a principal
            // whose identity policies let it delete every key of the account, may wipe it.
            guard mayReset(context) else {
                throw KMSError(
                    .accessDenied,
                    "User: \(context.principal) is not authorized to perform: CofferDev.Reset (the account root, "
                        + "or a principal allowed kms:ScheduleKeyDeletion on every key)")
            }
            try await kms.removeAllKeys(of: context.account)
            var reseeded = 0
            if case .object(let object)? = try? JSONReader.read(body), case .bool(true)? = object["Reseed"] {
                reseeded = try await kms.seed(seeds.filter { $0.scope.account == context.account }).count
            }
            logger.notice("reset", metadata: ["account": "\(context.account)", "reseeded": "\(reseeded)"])
        }
    }

    /// Whether the caller may reset its account: the root, or a principal whose identity policies allow
    /// `kms:ScheduleKeyDeletion` on `key/*` of the account and region.
    static func mayReset(_ context: RequestContext) -> Bool {
        if context.principal == "arn:aws:iam::\(context.account):root" { return true }
        let request = AuthorizationRequest(
            action: "kms:ScheduleKeyDeletion", principal: context.principal, account: context.account,
            resource: "arn:aws:kms:\(context.region):\(context.account):key/*", conditionKeys: [:])
        return PolicyEvaluator.evaluate(request, keyPolicy: nil, identityPolicies: context.identityPolicies).isAllowed
    }
}
