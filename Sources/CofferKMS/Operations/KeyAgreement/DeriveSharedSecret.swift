import CofferStore
import CofferWire
import Crypto

/// DeriveSharedSecret: the raw ECDH shared secret of a KEY_AGREEMENT key and a peer's public key,
/// computed inside an HSM. A peer key that does not parse or lies on another curve is
/// ValidationException.
public enum DeriveSharedSecret: KMSOperation {
    public static let name = "DeriveSharedSecret"
    public static let action = "kms:DeriveSharedSecret"
    public static let requirement = KeyRequirement.usable(.keyAgreement, aliases: true)

    public static func key(in input: DeriveSharedSecretRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: DeriveSharedSecretRequest, _ call: OperationCall
    ) async throws(KMSError) -> DeriveSharedSecretResponse {
        try OperationRules.refuseRecipient(input.recipient)
        let key = try call.requiredKey()
        let spec = try SigningRules.spec(of: key, call)
        guard spec.keyAgreementAlgorithms.contains(input.keyAgreementAlgorithm) else {
            throw KMSError(
                .invalidKeyUsage,
                "Algorithm \(input.keyAgreementAlgorithm.rawValue) is incompatible with key spec \(spec.rawValue).")
        }
        // The peer key is public: checked here with AWS's error before the HSM checks it again.
        let peer = input.publicKey
        let valid =
            switch spec {
            case .eccNistP256:
                ECPublicKeyInfo.names(peer, curve: ECPublicKeyInfo.p256)
                    && (try? P256.KeyAgreement.PublicKey(derRepresentation: peer)) != nil
            case .eccNistP384:
                ECPublicKeyInfo.names(peer, curve: ECPublicKeyInfo.p384)
                    && (try? P384.KeyAgreement.PublicKey(derRepresentation: peer)) != nil
            case .eccNistP521:
                ECPublicKeyInfo.names(peer, curve: ECPublicKeyInfo.p521)
                    && (try? P521.KeyAgreement.PublicKey(derRepresentation: peer)) != nil
            default: false
            }
        guard valid else {
            throw KMSError(
                .validation,
                "PublicKey is not a valid SubjectPublicKeyInfo of a public key on the curve of \(spec.rawValue).")
        }
        let token = try await call.kms.currentToken(key)
        guard case .sharedSecret(let secret) = try await call.hsm(.deriveSharedSecret(key: token, peer: peer)) else {
            throw KMSError(.internal, "the HSM did not return a shared secret")
        }
        return DeriveSharedSecretResponse(
            keyId: call.arn(key.id), sharedSecret: secret, keyAgreementAlgorithm: input.keyAgreementAlgorithm,
            keyOrigin: OriginType(rawValue: key.origin) ?? .awsKms)
    }
}
