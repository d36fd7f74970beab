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

/// What both data-key operations share: exactly one of `KeySpec` (AES_256, AES_128) and
/// `NumberOfBytes` (1 … 1024, the model's range).
enum DataKeys {
    static func generate(
        spec: DataKeySpec?, numberOfBytes: Int?, context pairs: StringPairs?, returnPlaintext: Bool,
        _ call: OperationCall
    ) async throws(KMSError) -> (blob: [UInt8], plaintext: SecretBytes?) {
        let key = try call.requiredKey()
        try SymmetricRules.algorithm(nil, for: key, call)
        let length: Int
        switch (spec, numberOfBytes) {
        case (nil, nil): throw KMSError(.validation, "Please specify either number of bytes or key spec.")
        case (.some, .some): throw KMSError(.validation, "Please specify either number of bytes or key spec.")
        case (.aes256?, nil): length = 32
        case (.aes128?, nil): length = 16
        case (nil, let bytes?): length = bytes
        }
        let context = try OperationRules.context(pairs, member: "encryptionContext")
        let token = try await call.kms.currentToken(key)
        guard
            case .dataKey(let plaintext, let blob) = try await call.kms.hsmCall(
                .generateDataKey(key: token, length: length, context: context, returnPlaintext: returnPlaintext))
        else { throw KMSError(.internal, "the HSM did not return a data key") }
        return (blob, plaintext)
    }
}
