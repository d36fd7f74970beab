import CofferStore

/// Each operation's own condition keys (the AWS KMS Developer Guide, "AWS KMS condition keys": which
/// keys each operation supplies). Keys every request has are added by ``PolicyAuthorizer``.
extension Encrypt {
    public static func conditions(_ input: EncryptRequest) -> RequestConditions {
        .encryption(input.encryptionContext, algorithm: input.encryptionAlgorithm?.rawValue)
    }
}

extension Decrypt {
    public static func conditions(_ input: DecryptRequest) -> RequestConditions {
        .encryption(input.encryptionContext, algorithm: input.encryptionAlgorithm?.rawValue)
    }
}

extension ReEncrypt {
    /// kms:ReEncryptFrom sees the source's context and algorithm; kms:ReEncryptTo the destination's.
    /// (`kms:ReEncryptOnSameKey` is not supplied: policies that test it are refused.)
    public static func conditions(_ input: ReEncryptRequest) -> RequestConditions {
        .encryption(input.sourceEncryptionContext, algorithm: input.sourceEncryptionAlgorithm?.rawValue)
    }
}

extension GenerateDataKey {
    public static func conditions(_ input: GenerateDataKeyRequest) -> RequestConditions {
        .encryption(input.encryptionContext)
    }
}

extension GenerateDataKeyWithoutPlaintext {
    public static func conditions(_ input: GenerateDataKeyWithoutPlaintextRequest) -> RequestConditions {
        .encryption(input.encryptionContext)
    }
}

extension GenerateDataKeyPair {
    public static func conditions(_ input: GenerateDataKeyPairRequest) -> RequestConditions {
        .dataKeyPair(input.encryptionContext, spec: input.keyPairSpec.rawValue)
    }
}

extension GenerateDataKeyPairWithoutPlaintext {
    public static func conditions(_ input: GenerateDataKeyPairWithoutPlaintextRequest) -> RequestConditions {
        .dataKeyPair(input.encryptionContext, spec: input.keyPairSpec.rawValue)
    }
}

extension Sign {
    public static func conditions(_ input: SignRequest) -> RequestConditions {
        .signing(input.signingAlgorithm.rawValue, messageType: (input.messageType ?? .raw).rawValue)
    }
}

extension Verify {
    public static func conditions(_ input: VerifyRequest) -> RequestConditions {
        .signing(input.signingAlgorithm.rawValue, messageType: (input.messageType ?? .raw).rawValue)
    }
}

extension GenerateMac {
    public static func conditions(_ input: GenerateMacRequest) -> RequestConditions {
        .mac(input.macAlgorithm.rawValue)
    }
}

extension VerifyMac {
    public static func conditions(_ input: VerifyMacRequest) -> RequestConditions { .mac(input.macAlgorithm.rawValue) }
}

extension DeriveSharedSecret {
    public static func conditions(_ input: DeriveSharedSecretRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:KeyAgreementAlgorithm", input.keyAgreementAlgorithm.rawValue)
        return conditions
    }
}

extension CreateKey {
    /// CreateKey names no key: the requested spec, usage and origin are its keys.
    public static func conditions(_ input: CreateKeyRequest) -> RequestConditions {
        var conditions = RequestConditions()
        let spec = input.keySpec?.rawValue ?? input.customerMasterKeySpec?.rawValue ?? "SYMMETRIC_DEFAULT"
        conditions.set("kms:KeySpec", spec)
        conditions.set(
            "kms:KeyUsage", input.keyUsage?.rawValue ?? (spec == "SYMMETRIC_DEFAULT" ? "ENCRYPT_DECRYPT" : nil))
        conditions.set("kms:KeyOrigin", (input.origin ?? .awsKms).rawValue)
        conditions.set("kms:MultiRegion", input.multiRegion == true ? "true" : "false")
        conditions.set(
            "kms:BypassPolicyLockoutSafetyCheck", input.bypassPolicyLockoutSafetyCheck == true ? "true" : "false")
        return conditions
    }
}

extension RequestConditions {
    /// A data key pair's: its encryption context and `kms:DataKeyPairSpec`.
    static func dataKeyPair(_ context: StringPairs?, spec: String) -> RequestConditions {
        var conditions = RequestConditions.encryption(context)
        conditions.set("kms:DataKeyPairSpec", spec)
        return conditions
    }

    /// Sign's and Verify's: `kms:SigningAlgorithm` and `kms:MessageType`.
    static func signing(_ algorithm: String, messageType: String) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:SigningAlgorithm", algorithm)
        conditions.set("kms:MessageType", messageType)
        return conditions
    }

    /// GenerateMac's and VerifyMac's: `kms:MacAlgorithm`.
    static func mac(_ algorithm: String) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:MacAlgorithm", algorithm)
        return conditions
    }
}

extension PutKeyPolicy {
    public static func conditions(_ input: PutKeyPolicyRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set(
            "kms:BypassPolicyLockoutSafetyCheck", input.bypassPolicyLockoutSafetyCheck == true ? "true" : "false")
        return conditions
    }
}
