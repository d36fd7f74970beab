import CofferStore
import CofferWire

/// VerifyMac: whether a MAC is the HMAC of a message under an HMAC key, compared in constant time inside
/// an HSM. A MAC that does not verify is KMSInvalidMacException, as in AWS.
public enum VerifyMac: KMSOperation {
    public static let name = "VerifyMac"
    public static let action = "kms:VerifyMac"
    public static let requirement = KeyRequirement.usable(.generateVerifyMac, aliases: true)

    public static func key(in input: VerifyMacRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: VerifyMacRequest, _ call: OperationCall) async throws(KMSError) -> VerifyMacResponse
    {
        let key = try call.requiredKey()
        try SigningRules.macAlgorithm(input.macAlgorithm, key: key, call)
        // A MAC longer than the algorithm's cannot be valid; the HSM's wire bound is 64 bytes.
        guard input.mac.count <= 64 else { throw KMSError(.invalidMac, "") }
        let token = try await call.kms.currentToken(key)
        guard
            case .verified(let valid) = try await call.hsm(
                .verifyMac(key: token, algorithm: input.macAlgorithm.rawValue, message: input.message, mac: input.mac))
        else { throw KMSError(.internal, "the HSM did not answer the verification") }
        guard valid else { throw KMSError(.invalidMac, "") }
        return VerifyMacResponse(keyId: call.arn(key.id), macValid: true, macAlgorithm: input.macAlgorithm)
    }
}
