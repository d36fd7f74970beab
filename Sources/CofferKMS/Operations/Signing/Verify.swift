import CofferStore
import CofferWire

/// Verify: whether a signature is the key's over a message, checked inside an HSM. A signature that
/// does not verify is KMSInvalidSignatureException, as in AWS (never `SignatureValid: false`).
public enum Verify: KMSOperation {
    public static let name = "Verify"
    public static let action = "kms:Verify"
    public static let requirement = KeyRequirement.usable(.signVerify, aliases: true)

    public static func key(in input: VerifyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: VerifyRequest, _ call: OperationCall) async throws(KMSError) -> VerifyResponse {
        let key = try call.requiredKey()
        let type = try SigningRules.messageType(
            input.messageType, input.message, algorithm: input.signingAlgorithm, key: key, call)
        let token = try await call.kms.currentToken(key)
        guard
            case .verified(let valid) = try await call.hsm(
                .verify(
                    key: token, algorithm: input.signingAlgorithm.rawValue, messageType: type, message: input.message,
                    signature: input.signature))
        else { throw KMSError(.internal, "the HSM did not answer the verification") }
        guard valid else { throw KMSError(.invalidSignature, "") }
        return VerifyResponse(keyId: call.arn(key.id), signatureValid: true, signingAlgorithm: input.signingAlgorithm)
    }
}
