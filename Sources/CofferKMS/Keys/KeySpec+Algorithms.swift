import CofferStore

/// What each key spec is for, as AWS KMS defines it: the key usages it may have and the algorithms of
/// each usage. CreateKey, DescribeKey and the usage checks read these; Coffer creates the specs marked
/// ``isSupported`` today and refuses the rest with UnsupportedOperationException.
extension KeySpec {
    /// The specs Coffer can create today.
    public var isSupported: Bool { !supportedUsages.isEmpty }

    /// The key usages of this spec that Coffer serves today (none for the specs no library here
    /// implements).
    public var supportedUsages: [KeyUsageType] {
        switch self {
        case .symmetricDefault: [.encryptDecrypt]
        case .hmac224, .hmac256, .hmac384, .hmac512: [.generateVerifyMac]
        case .eccNistP256, .eccNistP384, .eccNistP521: [.signVerify, .keyAgreement]
        case .eccNistEdwards25519: [.signVerify]
        case .rsa2048, .rsa3072, .rsa4096: [.encryptDecrypt, .signVerify]
        case .mlDsa65, .mlDsa87: [.signVerify]
        case .eccSecgP256k1, .sm2, .mlDsa44: []
        }
    }

    /// The spec of the key's backing keys on the HSM (docs/protocol.md): AES_256 for symmetric keys, the
    /// KMS spec's own name for the others.
    public var backingKeySpec: String { self == .symmetricDefault ? "AES_256" : rawValue }

    /// The key usages AWS allows for this spec; the first is the default.
    public var usages: [KeyUsageType] {
        switch self {
        case .symmetricDefault: [.encryptDecrypt]
        case .rsa2048, .rsa3072, .rsa4096: [.encryptDecrypt, .signVerify]
        case .eccNistP256, .eccNistP384, .eccNistP521, .eccSecgP256k1: [.signVerify, .keyAgreement]
        case .eccNistEdwards25519: [.signVerify]
        case .sm2: [.encryptDecrypt, .signVerify, .keyAgreement]
        case .hmac224, .hmac256, .hmac384, .hmac512: [.generateVerifyMac]
        case .mlDsa44, .mlDsa65, .mlDsa87: [.signVerify]
        }
    }

    /// The encryption algorithms of an ENCRYPT_DECRYPT key of this spec.
    public var encryptionAlgorithms: [EncryptionAlgorithmSpec] {
        switch self {
        case .symmetricDefault: [.symmetricDefault]
        case .rsa2048, .rsa3072, .rsa4096: [.rsaesOaepSha1, .rsaesOaepSha256]
        case .sm2: [.sm2pke]
        case .eccNistP256, .eccNistP384, .eccNistP521, .eccSecgP256k1, .eccNistEdwards25519, .hmac224, .hmac256,
            .hmac384, .hmac512, .mlDsa44, .mlDsa65, .mlDsa87:
            []
        }
    }

    /// The signing algorithms of a SIGN_VERIFY key of this spec.
    public var signingAlgorithms: [SigningAlgorithmSpec] {
        switch self {
        case .rsa2048, .rsa3072, .rsa4096:
            [
                .rsassaPssSha256, .rsassaPssSha384, .rsassaPssSha512, .rsassaPkcs1V15Sha256, .rsassaPkcs1V15Sha384,
                .rsassaPkcs1V15Sha512,
            ]
        case .eccNistP256, .eccSecgP256k1: [.ecdsaSha256]
        case .eccNistP384: [.ecdsaSha384]
        case .eccNistP521: [.ecdsaSha512]
        case .eccNistEdwards25519: [.ed25519Sha512, .ed25519PhSha512]
        case .sm2: [.sm2dsa]
        case .mlDsa44, .mlDsa65, .mlDsa87: [.mlDsaShake256]
        case .symmetricDefault, .hmac224, .hmac256, .hmac384, .hmac512: []
        }
    }

    /// The MAC algorithm of a GENERATE_VERIFY_MAC key of this spec.
    public var macAlgorithms: [MacAlgorithmSpec] {
        switch self {
        case .hmac224: [.hmacSha224]
        case .hmac256: [.hmacSha256]
        case .hmac384: [.hmacSha384]
        case .hmac512: [.hmacSha512]
        case .symmetricDefault, .rsa2048, .rsa3072, .rsa4096, .eccNistP256, .eccNistP384, .eccNistP521,
            .eccSecgP256k1, .eccNistEdwards25519, .sm2, .mlDsa44, .mlDsa65, .mlDsa87:
            []
        }
    }

    /// The key agreement algorithms of a KEY_AGREEMENT key of this spec.
    public var keyAgreementAlgorithms: [KeyAgreementAlgorithmSpec] {
        switch self {
        case .eccNistP256, .eccNistP384, .eccNistP521, .eccSecgP256k1, .sm2: [.ecdh]
        case .symmetricDefault, .rsa2048, .rsa3072, .rsa4096, .eccNistEdwards25519, .hmac224, .hmac256, .hmac384,
            .hmac512, .mlDsa44, .mlDsa65, .mlDsa87:
            []
        }
    }
}

extension KMSService {
    /// AWS's `KeyMetadata` of a stored key, as DescribeKey and CreateKey answer it: the algorithm lists
    /// of its usage only. `related` are a multi-Region key's keys in every region (itself among them),
    /// for its `MultiRegionConfiguration` (``metadata(of:)`` reads them).
    static func metadata(_ record: KeyRecord, related: [KeyRecord] = []) -> KeyMetadata {
        let spec = KeySpec(rawValue: record.keySpec) ?? .symmetricDefault
        let usage = KeyUsageType(rawValue: record.keyUsage) ?? .encryptDecrypt
        return KeyMetadata(
            awsAccountId: record.scope.account, keyId: record.id, arn: keyARN(record.id, in: record.scope),
            creationDate: Double(record.creationDate), enabled: record.state == .enabled,
            description: record.description, keyUsage: usage, keyState: KeyState(rawValue: record.state.rawValue),
            deletionDate: record.deletionDate.map(Double.init), validTo: record.validTo.map(Double.init),
            origin: OriginType(rawValue: record.origin) ?? .awsKms,
            expirationModel: record.expirationModel.flatMap(ExpirationModelType.init(rawValue:)), keyManager: .customer,
            customerMasterKeySpec: CustomerMasterKeySpec(rawValue: spec.rawValue), keySpec: spec,
            encryptionAlgorithms: usage == .encryptDecrypt ? spec.encryptionAlgorithms : nil,
            signingAlgorithms: usage == .signVerify ? spec.signingAlgorithms : nil,
            keyAgreementAlgorithms: usage == .keyAgreement ? spec.keyAgreementAlgorithms : nil,
            multiRegion: record.isMultiRegion, multiRegionConfiguration: multiRegionConfiguration(record, related),
            pendingDeletionWindowInDays: record.state == .pendingReplicaDeletion ? record.pendingWindowDays : nil,
            macAlgorithms: usage == .generateVerifyMac ? spec.macAlgorithms : nil,
            currentKeyMaterialId: record.keyMaterialID)
    }
}
