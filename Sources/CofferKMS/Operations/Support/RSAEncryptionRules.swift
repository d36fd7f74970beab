import CofferStore
import CofferWire

/// Encrypt and Decrypt with an RSA ENCRYPT_DECRYPT key, as AWS KMS does them: RSAES_OAEP_SHA_1 or
/// RSAES_OAEP_SHA_256 must be named (InvalidKeyUsageException otherwise), no encryption context
/// (ValidationException), and a plaintext that fits the modulus (ValidationException).
enum RSAEncryptionRules {
    /// Whether `key` is an asymmetric encryption key (the pipeline has checked its usage).
    static func applies(to key: KeyRecord) -> Bool { key.keySpec != KeySpec.symmetricDefault.rawValue }

    /// The algorithm, which must be one of the key's.
    static func algorithm(
        _ algorithm: EncryptionAlgorithmSpec?, for key: KeyRecord, _ call: OperationCall
    ) throws(KMSError) -> EncryptionAlgorithmSpec {
        let spec = KeySpec(rawValue: key.keySpec)
        guard let algorithm, let spec, spec.encryptionAlgorithms.contains(algorithm) else {
            throw KMSError(
                .invalidKeyUsage,
                "The encryption algorithm \(algorithm?.rawValue ?? "SYMMETRIC_DEFAULT") is not valid for "
                    + "\(call.arn(key.id)): use one of \((spec?.encryptionAlgorithms ?? []).map(\.rawValue)).")
        }
        return algorithm
    }

    /// An asymmetric key takes no encryption context.
    static func refuseContext(_ context: StringPairs?) throws(KMSError) {
        guard context?.pairs.isEmpty ?? true else {
            throw KMSError(.validation, "EncryptionContext is not supported with asymmetric KMS keys")
        }
    }

    /// The largest plaintext OAEP takes under `spec`: the modulus minus twice the hash and two bytes.
    static func maximumPlaintext(_ spec: KeySpec, _ algorithm: EncryptionAlgorithmSpec) -> Int {
        let modulus =
            switch spec {
            case .rsa3072: 384
            case .rsa4096: 512
            default: 256
            }
        return modulus - 2 * (algorithm == .rsaesOaepSha1 ? 20 : 32) - 2
    }
}
