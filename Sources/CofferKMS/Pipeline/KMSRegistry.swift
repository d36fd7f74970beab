/// The operations Coffer serves. Adding an operation is adding its type here (and its tests); the
/// other AWS KMS operations answer UnsupportedOperationException until they are built.
public enum KMSRegistry {
    /// Every operation, by name.
    public static let operations: [any KMSOperation.Type] = [
        // Keys
        CreateKey.self, DescribeKey.self, ListKeys.self, EnableKey.self, DisableKey.self,
        UpdateKeyDescription.self, ScheduleKeyDeletion.self, CancelKeyDeletion.self, GetKeyLastUsage.self,
        // Cryptography
        Encrypt.self, Decrypt.self, ReEncrypt.self, GenerateDataKey.self, GenerateDataKeyWithoutPlaintext.self,
        GenerateRandom.self, GenerateDataKeyPair.self, GenerateDataKeyPairWithoutPlaintext.self,
        // Signing and MACs
        Sign.self, Verify.self, GetPublicKey.self, GenerateMac.self, VerifyMac.self,
        // Key agreement
        DeriveSharedSecret.self,
        // Imported key material
        GetParametersForImport.self, ImportKeyMaterial.self, DeleteImportedKeyMaterial.self,
        // Multi-Region keys
        ReplicateKey.self, UpdatePrimaryRegion.self,
        // Aliases
        CreateAlias.self, UpdateAlias.self, DeleteAlias.self, ListAliases.self,
        // Tags
        TagResource.self, UntagResource.self, ListResourceTags.self,
        // Rotation
        EnableKeyRotation.self, DisableKeyRotation.self, GetKeyRotationStatus.self, RotateKeyOnDemand.self,
        ListKeyRotations.self,
        // Policies
        GetKeyPolicy.self, PutKeyPolicy.self, ListKeyPolicies.self,
        // Grants
        CreateGrant.self, ListGrants.self, ListRetirableGrants.self, RetireGrant.self, RevokeGrant.self,
    ]

    private static let byName: [String: any KMSOperation.Type] = Dictionary(
        uniqueKeysWithValues: operations.map { ($0.name, $0) })
    private static let awsNames = Set(KMSOperationNames.all.map(\.name))

    /// The operation called `name`, if Coffer serves it.
    public static func operation(named name: String) -> (any KMSOperation.Type)? { byName[name] }

    /// Whether `name` is an operation of the AWS KMS API (served or not).
    public static func isAWSOperation(_ name: String) -> Bool { awsNames.contains(name) }
}
