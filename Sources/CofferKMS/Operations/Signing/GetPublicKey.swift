import CofferStore
import CofferWire

/// GetPublicKey: the SubjectPublicKeyInfo of an asymmetric key, derived inside an HSM from its private
/// key, with the key's spec, usage and algorithms. Symmetric and HMAC keys have none
/// (UnsupportedOperationException, as in AWS).
public enum GetPublicKey: KMSOperation {
    public static let name = "GetPublicKey"
    public static let action = "kms:GetPublicKey"
    public static let requirement = KeyRequirement.usable(nil, aliases: true)

    public static func key(in input: GetPublicKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetPublicKeyRequest, _ call: OperationCall
    ) async throws(KMSError) -> GetPublicKeyResponse {
        let key = try call.requiredKey()
        let spec = try SigningRules.spec(of: key, call)
        guard spec != .symmetricDefault, spec.macAlgorithms.isEmpty else {
            throw KMSError(.unsupportedOperation, "\(call.arn(key.id)) is not an asymmetric key.")
        }
        let token = try await call.kms.currentToken(key)
        guard case .publicKey(let spki) = try await call.hsm(.publicKey(key: token)) else {
            throw KMSError(.internal, "the HSM did not return a public key")
        }
        let metadata = KMSService.metadata(key)
        return GetPublicKeyResponse(
            keyId: call.arn(key.id), publicKey: spki, customerMasterKeySpec: metadata.customerMasterKeySpec,
            keySpec: spec, keyUsage: metadata.keyUsage, encryptionAlgorithms: metadata.encryptionAlgorithms,
            signingAlgorithms: metadata.signingAlgorithms, keyAgreementAlgorithms: metadata.keyAgreementAlgorithms)
    }
}
