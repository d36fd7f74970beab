import CofferCrypto
import CofferStore
import CofferWire
import Foundation

/// CreateKey: a new key in the caller's account and region, its first backing key made on an HSM.
public enum CreateKey: KMSOperation {
    public static let name = "CreateKey"
    public static let action = "kms:CreateKey"
    public static let requirement = KeyRequirement.none

    public static func run(_ input: CreateKeyRequest, _ call: OperationCall) async throws(KMSError) -> CreateKeyResponse
    {
        if let legacy = input.customerMasterKeySpec, let spec = input.keySpec, legacy.rawValue != spec.rawValue {
            throw KMSError(.validation, "You cannot specify KeySpec and CustomerMasterKeySpec in the same request.")
        }
        let spec =
            input.keySpec ?? input.customerMasterKeySpec.flatMap { KeySpec(rawValue: $0.rawValue) } ?? .symmetricDefault
        let usage = input.keyUsage ?? spec.usages[0]
        guard spec.usages.contains(usage) else {
            throw KMSError(.validation, "KeyUsage \(usage.rawValue) is not compatible with KeySpec \(spec.rawValue)")
        }
        guard spec.isSupported else {
            throw KMSError(
                .unsupportedOperation,
                "KeySpec \(spec.rawValue) is not supported by Coffer: no maintained Swift library here implements "
                    + spec.rawValue)
        }
        guard spec.supportedUsages.contains(usage) else {
            throw KMSError(
                .unsupportedOperation,
                "KeyUsage \(usage.rawValue) of KeySpec \(spec.rawValue) is not supported by Coffer yet")
        }
        let external: Bool
        switch input.origin ?? .awsKms {
        case .awsKms: external = false
        case .external:
            external = true
        case .awsCloudhsm, .externalKeyStore:
            throw KMSError(.unsupportedOperation, "Coffer has no custom key stores")
        }
        guard input.customKeyStoreId == nil, input.xksKeyId == nil else {
            throw KMSError(.unsupportedOperation, "Coffer has no custom key stores")
        }
        if let policy = input.policy { try OperationRules.checkPolicy(policy) }
        let tags = try OperationRules.tags(input.tags)
        // A multi-Region key's id is `mrk-` and 32 hex digits, the same in every region it is replicated to.
        let multiRegion = input.multiRegion == true
        let id = multiRegion ? KeyIdentifier.newMultiRegionID() : RandomUUID.lowercased()
        if let policy = input.policy {
            try await OperationRules.checkLockout(
                policy, keyARN: call.arn(id), bypass: input.bypassPolicyLockoutSafetyCheck, call)
        }
        if external {
            let record = try await call.kms.createExternalKey(
                id: id, scope: call.context.scope, spec: spec, usage: usage, description: input.description ?? "",
                policy: input.policy, tags: tags, multiRegion: multiRegion)
            return CreateKeyResponse(keyMetadata: KMSService.metadata(record, related: [record]))
        }
        let record = try await call.kms.createKey(
            id: id, scope: call.context.scope, spec: spec, usage: usage, description: input.description ?? "",
            policy: input.policy, tags: tags, multiRegion: multiRegion)
        return CreateKeyResponse(keyMetadata: KMSService.metadata(record, related: [record]))
    }
}
