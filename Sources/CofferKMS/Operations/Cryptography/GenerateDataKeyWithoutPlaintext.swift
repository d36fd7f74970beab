import CofferCrypto
import CofferStore
import CofferWire

/// GenerateDataKeyWithoutPlaintext: the same data key, only encrypted; the plaintext never leaves the HSM.
public enum GenerateDataKeyWithoutPlaintext: KMSOperation {
    public static let name = "GenerateDataKeyWithoutPlaintext"
    public static let action = "kms:GenerateDataKeyWithoutPlaintext"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: GenerateDataKeyWithoutPlaintextRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GenerateDataKeyWithoutPlaintextRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GenerateDataKeyWithoutPlaintextResponse
    {
        let (blob, _) = try await DataKeys.generate(
            spec: input.keySpec, numberOfBytes: input.numberOfBytes, context: input.encryptionContext,
            returnPlaintext: false, call)
        return GenerateDataKeyWithoutPlaintextResponse(ciphertextBlob: blob, keyId: call.arn(try call.requiredKey().id))
    }
}
