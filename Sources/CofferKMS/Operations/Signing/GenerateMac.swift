import CofferStore
import CofferWire

/// GenerateMac: the HMAC of a message under an HMAC key, computed inside an HSM.
public enum GenerateMac: KMSOperation {
    public static let name = "GenerateMac"
    public static let action = "kms:GenerateMac"
    public static let requirement = KeyRequirement.usable(.generateVerifyMac, aliases: true)

    public static func key(in input: GenerateMacRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GenerateMacRequest, _ call: OperationCall
    ) async throws(KMSError) -> GenerateMacResponse {
        let key = try call.requiredKey()
        try SigningRules.macAlgorithm(input.macAlgorithm, key: key, call)
        let token = try await call.kms.currentToken(key)
        guard
            case .mac(let mac) = try await call.hsm(
                .generateMac(key: token, algorithm: input.macAlgorithm.rawValue, message: input.message))
        else { throw KMSError(.internal, "the HSM did not return a MAC") }
        return GenerateMacResponse(mac: mac, macAlgorithm: input.macAlgorithm, keyId: call.arn(key.id))
    }
}
