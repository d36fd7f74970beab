import CofferStore
import CofferWire

/// Encrypt: at most 4096 bytes under the key's current backing key, bound to the encryption context,
/// sealed inside an HSM.
public enum Encrypt: KMSOperation {
    public static let name = "Encrypt"
    public static let action = "kms:Encrypt"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: EncryptRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EncryptRequest, _ call: OperationCall) async throws(KMSError) -> EncryptResponse {
        let key = try call.requiredKey()
        try SymmetricRules.algorithm(input.encryptionAlgorithm, for: key, call)
        let context = try OperationRules.context(input.encryptionContext, member: "encryptionContext")
        let token = try await call.kms.currentToken(key)
        guard
            case .ciphertext(let blob) = try await call.hsm(
                .encrypt(key: token, plaintext: input.plaintext, context: context))
        else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
        return EncryptResponse(ciphertextBlob: blob, keyId: call.arn(key.id), encryptionAlgorithm: .symmetricDefault)
    }
}
