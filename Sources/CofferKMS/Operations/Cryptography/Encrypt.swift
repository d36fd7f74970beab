import CofferCrypto
import CofferStore
import CofferWire

/// Encrypt: at most 4096 bytes under the key's current backing key, bound to the encryption context,
/// sealed inside an HSM; with an RSA key, RSA-OAEP of a plaintext that fits the modulus.
public enum Encrypt: KMSOperation {
    public static let name = "Encrypt"
    public static let action = "kms:Encrypt"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func key(in input: EncryptRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EncryptRequest, _ call: OperationCall) async throws(KMSError) -> EncryptResponse {
        let key = try call.requiredKey()
        if RSAEncryptionRules.applies(to: key) { return try await rsa(input, key, call) }
        try SymmetricRules.algorithm(input.encryptionAlgorithm, for: key, call)
        let context = try OperationRules.context(input.encryptionContext, member: "encryptionContext")
        let token = try await call.kms.currentToken(key)
        guard
            case .ciphertext(let blob) = try await call.hsm(
                .encrypt(key: token, plaintext: input.plaintext, context: context))
        else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
        return EncryptResponse(ciphertextBlob: blob, keyId: call.arn(key.id), encryptionAlgorithm: .symmetricDefault)
    }

    private static func rsa(
        _ input: EncryptRequest, _ key: KeyRecord, _ call: OperationCall
    ) async throws(KMSError) -> EncryptResponse {
        let algorithm = try RSAEncryptionRules.algorithm(input.encryptionAlgorithm, for: key, call)
        try RSAEncryptionRules.refuseContext(input.encryptionContext)
        let spec = KeySpec(rawValue: key.keySpec) ?? .rsa2048
        let maximum = RSAEncryptionRules.maximumPlaintext(spec, algorithm)
        guard input.plaintext.count <= maximum else {
            throw KMSError(
                .validation,
                "Plaintext length \(input.plaintext.count) exceeds the maximum of \(maximum) bytes for "
                    + "\(spec.rawValue) with \(algorithm.rawValue)")
        }
        let token = try await call.kms.currentToken(key)
        guard
            case .ciphertext(let ciphertext) = try await call.hsm(
                .asymmetricEncrypt(key: token, algorithm: algorithm.rawValue, plaintext: input.plaintext))
        else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
        return EncryptResponse(ciphertextBlob: ciphertext, keyId: call.arn(key.id), encryptionAlgorithm: algorithm)
    }
}
