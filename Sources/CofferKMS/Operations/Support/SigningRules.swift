import CofferCrypto
import CofferStore
import CofferWire

/// Rules that Sign, Verify, GenerateMac and VerifyMac share: the algorithm must be one of the key's
/// spec (InvalidKeyUsageException), a DIGEST message must be the size of the algorithm's hash and only
/// algorithms that hash may take one (ValidationException), as AWS KMS answers them.
enum SigningRules {
    /// The spec of a key whose usage the pipeline has checked.
    static func spec(of key: KeyRecord, _ call: OperationCall) throws(KMSError) -> KeySpec {
        guard let spec = KeySpec(rawValue: key.keySpec) else {
            throw KMSError(.internal, "\(call.arn(key.id)) has an unknown key spec")
        }
        return spec
    }

    /// The HSM's message type for a signing request, after AWS's checks.
    static func messageType(
        _ type: MessageType?, _ message: SecretBytes, algorithm: SigningAlgorithmSpec, key: KeyRecord,
        _ call: OperationCall
    ) throws(KMSError) -> SessionCommand.MessageType {
        let spec = try spec(of: key, call)
        guard spec.signingAlgorithms.contains(algorithm) else {
            throw KMSError(
                .invalidKeyUsage, "Algorithm \(algorithm.rawValue) is incompatible with key spec \(spec.rawValue).")
        }
        guard algorithm != .ed25519PhSha512 else {
            throw KMSError(
                .unsupportedOperation,
                "ED25519_PH_SHA_512 is not supported by Coffer yet (swift-crypto has no Ed25519ph); use ED25519_SHA_512"
            )
        }
        switch type ?? .raw {
        case .raw:
            return .raw
        case .externalMu:
            guard algorithm == .mlDsaShake256 else {
                throw KMSError(.validation, "MessageType EXTERNAL_MU is only valid for ML_DSA key specs.")
            }
            throw KMSError(
                .unsupportedOperation,
                "MessageType EXTERNAL_MU is not supported by Coffer yet (swift-crypto's ML-DSA signs messages, "
                    + "not a precomputed mu); send the RAW message")
        case .digest:
            guard let size = digestSize(algorithm) else {
                throw KMSError(
                    .validation, "MessageType DIGEST is not valid for signing algorithm \(algorithm.rawValue).")
            }
            guard message.count == size else {
                throw KMSError(
                    .validation,
                    "Digest is invalid length for algorithm \(algorithm.rawValue): expected \(size) bytes.")
            }
            return .digest
        }
    }

    /// The digest size a DIGEST message of `algorithm` has; nil where the algorithm takes RAW messages only.
    static func digestSize(_ algorithm: SigningAlgorithmSpec) -> Int? {
        switch algorithm {
        case .ecdsaSha256, .rsassaPssSha256, .rsassaPkcs1V15Sha256: 32
        case .ecdsaSha384, .rsassaPssSha384, .rsassaPkcs1V15Sha384: 48
        case .ecdsaSha512, .rsassaPssSha512, .rsassaPkcs1V15Sha512, .ed25519PhSha512: 64
        case .sm2dsa: 32
        case .ed25519Sha512, .mlDsaShake256: nil
        }
    }

    /// A MAC algorithm must be the key's.
    static func macAlgorithm(_ algorithm: MacAlgorithmSpec, key: KeyRecord, _ call: OperationCall) throws(KMSError) {
        let spec = try spec(of: key, call)
        guard spec.macAlgorithms.contains(algorithm) else {
            throw KMSError(
                .invalidKeyUsage, "Algorithm \(algorithm.rawValue) is incompatible with key spec \(spec.rawValue).")
        }
    }
}
