import CofferCrypto
import CofferStore
import CofferWire

/// GenerateDataKey: a data key made in the HSM, returned in plaintext and encrypted under the key.
public enum GenerateDataKey: KMSOperation {
    public static let name = "GenerateDataKey"
    public static let action = "kms:GenerateDataKey"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: GenerateDataKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GenerateDataKeyRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GenerateDataKeyResponse
    {
        try OperationRules.refuseRecipient(input.recipient)
        let (blob, plaintext) = try await DataKeys.generate(
            spec: input.keySpec, numberOfBytes: input.numberOfBytes, context: input.encryptionContext,
            returnPlaintext: true, call)
        return GenerateDataKeyResponse(
            ciphertextBlob: blob, plaintext: plaintext, keyId: call.arn(try call.requiredKey().id))
    }
}
