import CofferStore
import CofferWire

/// Decrypt: the key comes from the ciphertext blob; a `KeyId`, when given, must name the same key. An
/// RSA ciphertext names no key: its `KeyId` and `EncryptionAlgorithm` are required, as in AWS.
public enum Decrypt: KMSOperation {
    public static let name = "Decrypt"
    public static let action = "kms:Decrypt"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func validate(_ input: DecryptRequest) throws(KMSError) {
        guard input.ciphertextBlob != nil else { throw missingMember("ciphertextBlob") }
    }

    public static func key(in input: DecryptRequest) -> KeyReference? {
        .ciphertext(input.ciphertextBlob ?? [], named: input.keyId)
    }

    public static func run(_ input: DecryptRequest, _ call: OperationCall) async throws(KMSError) -> DecryptResponse {
        try OperationRules.refuseRecipient(input.recipient)
        let key = try call.requiredKey()
        if RSAEncryptionRules.applies(to: key) { return try await rsa(input, key, call) }
        try SymmetricRules.algorithm(input.encryptionAlgorithm, for: key, call)
        let blob = input.ciphertextBlob ?? []
        let context = try OperationRules.context(input.encryptionContext, member: "encryptionContext")
        let token = try await call.kms.token(for: blob, of: key)
        guard
            case .plaintext(_, let plaintext) = try await call.hsm(
                .decrypt(key: token, ciphertext: blob, context: context))
        else { throw KMSError(.internal, "the HSM did not return a plaintext") }
        return DecryptResponse(keyId: call.arn(key.id), plaintext: plaintext, encryptionAlgorithm: .symmetricDefault)
    }

    private static func rsa(
        _ input: DecryptRequest, _ key: KeyRecord, _ call: OperationCall
    ) async throws(KMSError) -> DecryptResponse {
        let algorithm = try RSAEncryptionRules.algorithm(input.encryptionAlgorithm, for: key, call)
        try RSAEncryptionRules.refuseContext(input.encryptionContext)
        let token = try await call.kms.currentToken(key)
        guard
            case .plaintext(_, let plaintext) = try await call.hsm(
                .asymmetricDecrypt(key: token, algorithm: algorithm.rawValue, ciphertext: input.ciphertextBlob ?? []))
        else { throw KMSError(.internal, "the HSM did not return a plaintext") }
        return DecryptResponse(keyId: call.arn(key.id), plaintext: plaintext, encryptionAlgorithm: algorithm)
    }
}
