import CofferStore
import CofferWire

/// ReEncrypt: decrypt under the source key and encrypt under the destination key, inside the HSM; the
/// plaintext never leaves it. Authorized as kms:ReEncryptFrom on the source and kms:ReEncryptTo on the
/// destination.
public enum ReEncrypt: KMSOperation {
    public static let name = "ReEncrypt"
    public static let action = "kms:ReEncryptFrom"
    public static let requirement = KeyRequirement.usable(.encryptDecrypt, aliases: true)

    public static func validate(_ input: ReEncryptRequest) throws(KMSError) {
        guard input.ciphertextBlob != nil else { throw missingMember("ciphertextBlob") }
    }

    public static func key(in input: ReEncryptRequest) -> KeyReference? {
        .ciphertext(input.ciphertextBlob ?? [], named: input.sourceKeyId)
    }

    public static func run(
        _ input: ReEncryptRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ReEncryptResponse
    {
        let source = try call.requiredKey()
        try SymmetricRules.algorithm(input.sourceEncryptionAlgorithm, for: source, call)
        let destination = try await call.otherKey(
            .named(input.destinationKeyId), .usable(.encryptDecrypt, aliases: true), action: "kms:ReEncryptTo")
        try SymmetricRules.algorithm(input.destinationEncryptionAlgorithm, for: destination, call)
        let blob = input.ciphertextBlob ?? []
        let sourceContext = try OperationRules.context(input.sourceEncryptionContext, member: "sourceEncryptionContext")
        let destinationContext = try OperationRules.context(
            input.destinationEncryptionContext, member: "destinationEncryptionContext")
        let sourceToken = try await call.kms.token(for: blob, of: source)
        let destinationToken = try await call.kms.currentToken(destination)
        guard
            case .ciphertext(let moved) = try await call.hsm(
                .reEncrypt(
                    source: sourceToken, ciphertext: blob, sourceContext: sourceContext, destination: destinationToken,
                    destinationContext: destinationContext))
        else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
        return ReEncryptResponse(
            ciphertextBlob: moved, sourceKeyId: call.arn(source.id), keyId: call.arn(destination.id),
            sourceEncryptionAlgorithm: .symmetricDefault, destinationEncryptionAlgorithm: .symmetricDefault)
    }
}
