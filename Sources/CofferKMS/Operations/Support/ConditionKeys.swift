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
    public static func conditions(_ input: ReEncryptRequest) -> RequestConditions {
        var conditions = RequestConditions.encryption(
            input.sourceEncryptionContext, algorithm: input.sourceEncryptionAlgorithm?.rawValue)
        conditions.set(
            "kms:ReEncryptOnSameKey", input.sourceKeyId.map { $0 == input.destinationKeyId ? "true" : "false" })
        return conditions
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
        var conditions = RequestConditions.encryption(input.encryptionContext)
        conditions.set("kms:DataKeyPairSpec", input.keyPairSpec.rawValue)
        return conditions
    }
}

extension GenerateDataKeyPairWithoutPlaintext {
    public static func conditions(_ input: GenerateDataKeyPairWithoutPlaintextRequest) -> RequestConditions {
        var conditions = RequestConditions.encryption(input.encryptionContext)
        conditions.set("kms:DataKeyPairSpec", input.keyPairSpec.rawValue)
        return conditions
    }
}

extension Sign {
    public static func conditions(_ input: SignRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:SigningAlgorithm", input.signingAlgorithm.rawValue)
        conditions.set("kms:MessageType", (input.messageType ?? .raw).rawValue)
        return conditions
    }
}

extension Verify {
    public static func conditions(_ input: VerifyRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:SigningAlgorithm", input.signingAlgorithm.rawValue)
        conditions.set("kms:MessageType", (input.messageType ?? .raw).rawValue)
        return conditions
    }
}

extension GenerateMac {
    public static func conditions(_ input: GenerateMacRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:MacAlgorithm", input.macAlgorithm.rawValue)
        return conditions
    }
}

extension VerifyMac {
    public static func conditions(_ input: VerifyMacRequest) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.set("kms:MacAlgorithm", input.macAlgorithm.rawValue)
        return conditions
    }
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
