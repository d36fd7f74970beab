import CofferCrypto
import CofferStore
import CofferWire

/// GenerateDataKeyPairWithoutPlaintext: the same pair, its private key only sealed; the plaintext
/// private key never leaves the HSM.
public enum GenerateDataKeyPairWithoutPlaintext: KMSOperation {
    public static let name = "GenerateDataKeyPairWithoutPlaintext"
    public static let action = "kms:GenerateDataKeyPairWithoutPlaintext"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: GenerateDataKeyPairWithoutPlaintextRequest) -> KeyReference? {
        .named(input.keyId)
    }

    public static func run(
        _ input: GenerateDataKeyPairWithoutPlaintextRequest, _ call: OperationCall
    ) async throws(KMSError) -> GenerateDataKeyPairWithoutPlaintextResponse {
        let (blob, _, publicKey) = try await DataKeys.generatePair(
            spec: input.keyPairSpec, context: input.encryptionContext, returnPlaintext: false, call)
        return GenerateDataKeyPairWithoutPlaintextResponse(
            privateKeyCiphertextBlob: blob, publicKey: publicKey, keyId: call.arn(try call.requiredKey().id),
            keyPairSpec: input.keyPairSpec)
    }
}
