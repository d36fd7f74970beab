import CofferJSON

/// Which request members an audit record keeps: an allowlist of names that are never secret (key ids,
/// algorithms, encryption contexts, sizes, names, principals), as CloudTrail records them for KMS. Every
/// other member — plaintexts, ciphertexts, messages, MACs, signatures, public keys, key material, import
/// tokens, policies, tags — is left out, so no secret can reach the log whatever an operation adds later.
enum AuditRedaction {
    static let allowed: Set<String> = [
        "KeyId", "SourceKeyId", "DestinationKeyId", "TargetKeyId", "AliasName", "EncryptionAlgorithm",
        "SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm", "EncryptionContext",
        "SourceEncryptionContext", "DestinationEncryptionContext", "KeySpec", "KeyUsage", "KeyPairSpec",
        "NumberOfBytes", "SigningAlgorithm", "MessageType", "MacAlgorithm", "KeyAgreementAlgorithm",
        "GranteePrincipal", "RetiringPrincipal", "Operations", "GrantId", "Name", "PolicyName",
        "PendingWindowInDays", "RotationPeriodInDays", "Origin", "MultiRegion", "ReplicaRegion", "PrimaryRegion",
        "WrappingAlgorithm", "WrappingKeySpec", "ExpirationModel", "ValidTo", "Limit", "Marker", "DryRun",
        "BypassPolicyLockoutSafetyCheck", "CustomerMasterKeySpec", "IncludeKeyMaterial", "TagKeys",
    ]

    /// The allowed members of a request body's object.
    static func parameters(_ object: JSONObject) -> JSONObject {
        JSONObject(object.members.filter { allowed.contains($0.name) })
    }
}
