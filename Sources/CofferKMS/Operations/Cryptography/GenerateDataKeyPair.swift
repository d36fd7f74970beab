import CofferCrypto
import CofferStore
import CofferWire

/// GenerateDataKeyPair: an RSA, ECC or Ed25519 key pair made inside an HSM; the private key (PKCS#8 DER)
/// is returned in plaintext and sealed as a ciphertext blob under a symmetric encryption key, bound to
/// the encryption context, which Decrypt opens.
public enum GenerateDataKeyPair: KMSOperation {
    public static let name = "GenerateDataKeyPair"
    public static let action = "kms:GenerateDataKeyPair"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: GenerateDataKeyPairRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GenerateDataKeyPairRequest, _ call: OperationCall
    ) async throws(KMSError) -> GenerateDataKeyPairResponse {
        try OperationRules.refuseRecipient(input.recipient)
        let (blob, privateKey, publicKey) = try await DataKeys.generatePair(
            spec: input.keyPairSpec, context: input.encryptionContext, returnPlaintext: true, call)
        return GenerateDataKeyPairResponse(
            privateKeyCiphertextBlob: blob, privateKeyPlaintext: privateKey, publicKey: publicKey,
            keyId: call.arn(try call.requiredKey().id), keyPairSpec: input.keyPairSpec)
    }
}
