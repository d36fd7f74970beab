import CofferStore
import CofferWire

/// Rules of symmetric encryption keys that Encrypt, Decrypt, ReEncrypt and GenerateDataKey share.
enum SymmetricRules {
    /// A symmetric key encrypts with SYMMETRIC_DEFAULT only.
    static func algorithm(
        _ algorithm: EncryptionAlgorithmSpec?, for key: KeyRecord, _ call: OperationCall
    ) throws(KMSError) {
        guard key.keySpec == KeySpec.symmetricDefault.rawValue else {
            throw KMSError(.invalidKeyUsage, "\(call.arn(key.id)) is not a symmetric encryption key.")
        }
        guard algorithm == nil || algorithm == .symmetricDefault else {
            throw KMSError(
                .invalidKeyUsage,
                "The encryption algorithm \(algorithm?.rawValue ?? "") is not valid for \(call.arn(key.id)).")
        }
    }
}
