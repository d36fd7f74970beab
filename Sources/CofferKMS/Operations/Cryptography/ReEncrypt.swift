import CofferStore
import CofferWire

/// ReEncrypt: decrypt under the source key and encrypt under the destination key, inside the HSM; the
/// plaintext never leaves it. Either key may be a symmetric or an RSA ENCRYPT_DECRYPT key (an RSA source
/// must be named by SourceKeyId, as its ciphertext names no key). Authorized as kms:ReEncryptFrom on the source and kms:ReEncryptTo on the
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
        let sourceAlgorithm = try algorithm(
            input.sourceEncryptionAlgorithm, context: input.sourceEncryptionContext, for: source, call)
        let destination = try await call.otherKey(
            .named(input.destinationKeyId), .usable(.encryptDecrypt, aliases: true), action: "kms:ReEncryptTo",
            conditions: .encryption(
                input.destinationEncryptionContext, algorithm: input.destinationEncryptionAlgorithm?.rawValue))
        let destinationAlgorithm = try algorithm(
            input.destinationEncryptionAlgorithm, context: input.destinationEncryptionContext, for: destination, call)
        let blob = input.ciphertextBlob ?? []
        let sourceContext = try OperationRules.context(input.sourceEncryptionContext, member: "sourceEncryptionContext")
        let destinationContext = try OperationRules.context(
            input.destinationEncryptionContext, member: "destinationEncryptionContext")
        let sourceToken =
            RSAEncryptionRules.applies(to: source)
            ? try await call.kms.currentToken(source) : try await call.kms.token(for: blob, of: source)
        let destinationToken = try await call.kms.currentToken(destination)
        let moved: [UInt8]
        if sourceAlgorithm == .symmetricDefault, destinationAlgorithm == .symmetricDefault {
            guard
                case .ciphertext(let ciphertext) = try await call.hsm(
                    .reEncrypt(
                        source: sourceToken, ciphertext: blob, sourceContext: sourceContext,
                        destination: destinationToken, destinationContext: destinationContext))
            else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
            moved = ciphertext
        } else {
            // An RSA side: the HSM decrypts and encrypts with either kind of key, the plaintext inside it.
            // The host checked algorithms and contexts; what the HSM alone can see is the size.
            guard
                case .ciphertext(let ciphertext) = try await call.hsm(
                    .reEncryptWith(
                        source: sourceToken, sourceAlgorithm: sourceAlgorithm.rawValue, ciphertext: blob,
                        sourceContext: sourceContext, destination: destinationToken,
                        destinationAlgorithm: destinationAlgorithm.rawValue, destinationContext: destinationContext),
                    invalidArgument: KMSError(
                        .validation,
                        "The plaintext does not fit \(call.arn(destination.id)) with \(destinationAlgorithm.rawValue).")
                )
            else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
            moved = ciphertext
        }
        return ReEncryptResponse(
            ciphertextBlob: moved, sourceKeyId: call.arn(source.id), keyId: call.arn(destination.id),
            sourceEncryptionAlgorithm: sourceAlgorithm, destinationEncryptionAlgorithm: destinationAlgorithm)
    }

    /// A side's algorithm: SYMMETRIC_DEFAULT for a symmetric key, an RSAES_OAEP one (named, and with no
    /// encryption context) for an RSA key, as Encrypt and Decrypt require them.
    private static func algorithm(
        _ algorithm: EncryptionAlgorithmSpec?, context: StringPairs?, for key: KeyRecord, _ call: OperationCall
    ) throws(KMSError) -> EncryptionAlgorithmSpec {
        guard RSAEncryptionRules.applies(to: key) else {
            try SymmetricRules.algorithm(algorithm, for: key, call)
            return .symmetricDefault
        }
        let chosen = try RSAEncryptionRules.algorithm(algorithm, for: key, call)
        try RSAEncryptionRules.refuseContext(context)
        return chosen
    }
}
