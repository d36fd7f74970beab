import CofferCrypto
import CofferStore
import CofferWire
import Foundation

/// GetParametersForImport: a fresh RSA wrapping key made in an HSM, its public key, and the import token
/// (the wrapping key's importWrapping token, bound to this key and the wrapping algorithm) valid 24 hours.
public enum GetParametersForImport: KMSOperation {
    public static let name = "GetParametersForImport"
    public static let action = "kms:GetParametersForImport"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: GetParametersForImportRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetParametersForImportRequest, _ call: OperationCall
    ) async throws(KMSError) -> GetParametersForImportResponse {
        let key = try call.requiredKey()
        try ImportRules.requireExternal(key, call)
        switch input.wrappingAlgorithm {
        case .rsaesOaepSha1, .rsaesOaepSha256, .rsaAesKeyWrapSha1, .rsaAesKeyWrapSha256: break
        case .rsaesPkcs1V15, .sm2pke:
            throw KMSError(
                .unsupportedOperation,
                "WrappingAlgorithm \(input.wrappingAlgorithm.rawValue) is not supported by Coffer")
        }
        guard input.wrappingKeySpec != .sm2 else {
            throw KMSError(.unsupportedOperation, "WrappingKeySpec SM2 is not supported by Coffer")
        }
        guard let keyBytes = KeyIdentifier.bytes(ofKeyID: key.id) else { throw KMSError(.internal, "bad key id") }
        let validTo = call.kms.now + 86_400
        guard
            case .importParameters(let token, let publicKey) = try await call.hsm(
                .createImportWrapping(
                    keyID: keyBytes, importID: SystemEntropy.bytes(count: 16),
                    wrapping: "\(input.wrappingKeySpec.rawValue)/\(input.wrappingAlgorithm.rawValue)",
                    notAfter: WireTime(secondsSinceEpoch: validTo)))
        else { throw KMSError(.internal, "the HSM did not return import parameters") }
        return GetParametersForImportResponse(
            keyId: call.arn(key.id), importToken: token.derBytes, publicKey: SecretBytes(copying: publicKey),
            parametersValidTo: Double(validTo))
    }
}
