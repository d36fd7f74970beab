import CofferStore
import CofferWire

/// Sign: a signature of a message (RAW, or its DIGEST) with an asymmetric SIGN_VERIFY key, made inside
/// an HSM; ECDSA signatures in DER, Ed25519 as 64 bytes, as AWS returns them.
public enum Sign: KMSOperation {
    public static let name = "Sign"
    public static let action = "kms:Sign"
    public static let requirement = KeyRequirement.usable(.signVerify, aliases: true)

    public static func key(in input: SignRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: SignRequest, _ call: OperationCall) async throws(KMSError) -> SignResponse {
        let key = try call.requiredKey()
        let type = try SigningRules.messageType(
            input.messageType, input.message, algorithm: input.signingAlgorithm, key: key, call)
        let token = try await call.kms.currentToken(key)
        guard
            case .signature(let signature) = try await call.hsm(
                .sign(key: token, algorithm: input.signingAlgorithm.rawValue, messageType: type, message: input.message)
            )
        else { throw KMSError(.internal, "the HSM did not return a signature") }
        return SignResponse(keyId: call.arn(key.id), signature: signature, signingAlgorithm: input.signingAlgorithm)
    }
}
