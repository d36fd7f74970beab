import CofferCrypto
import CofferStore
import CofferWire

/// What both data-key operations share: exactly one of `KeySpec` (AES_256, AES_128) and
/// `NumberOfBytes` (1 … 1024, the model's range).
enum DataKeys {
    static func generate(
        spec: DataKeySpec?, numberOfBytes: Int?, context pairs: StringPairs?, returnPlaintext: Bool,
        _ call: OperationCall
    ) async throws(KMSError) -> (blob: [UInt8], plaintext: SecretBytes?) {
        let key = try call.requiredKey()
        try SymmetricRules.algorithm(nil, for: key, call)
        let length: Int
        switch (spec, numberOfBytes) {
        case (nil, nil): throw KMSError(.validation, "Please specify either number of bytes or key spec.")
        case (.some, .some): throw KMSError(.validation, "Please specify either number of bytes or key spec.")
        case (.aes256?, nil): length = 32
        case (.aes128?, nil): length = 16
        case (nil, let bytes?): length = bytes
        }
        let context = try OperationRules.context(pairs, member: "encryptionContext")
        let token = try await call.kms.currentToken(key)
        guard
            case .dataKey(let plaintext, let blob) = try await call.hsm(
                .generateDataKey(key: token, length: length, context: context, returnPlaintext: returnPlaintext))
        else { throw KMSError(.internal, "the HSM did not return a data key") }
        return (blob, plaintext)
    }

    /// A data key pair under the request's symmetric key: (private key blob, private key PKCS#8 when
    /// asked for, public key SPKI). SM2 and ECC_SECG_P256K1 pairs are refused by name.
    static func generatePair(
        spec: DataKeyPairSpec, context pairs: StringPairs?, returnPlaintext: Bool, _ call: OperationCall
    ) async throws(KMSError) -> (blob: [UInt8], privateKey: SecretBytes?, publicKey: [UInt8]) {
        let key = try call.requiredKey()
        try SymmetricRules.algorithm(nil, for: key, call)
        guard spec != .sm2, spec != .eccSecgP256k1 else {
            throw KMSError(
                .unsupportedOperation,
                "KeyPairSpec \(spec.rawValue) is not supported by Coffer: no maintained Swift library here implements it"
            )
        }
        let context = try OperationRules.context(pairs, member: "encryptionContext")
        let token = try await call.kms.currentToken(key)
        guard
            case .dataKeyPair(let privateKey, let blob, let publicKey) = try await call.hsm(
                .generateDataKeyPair(
                    key: token, pairSpec: spec.rawValue, context: context, returnPlaintext: returnPlaintext))
        else { throw KMSError(.internal, "the HSM did not return a data key pair") }
        return (blob, privateKey, publicKey)
    }
}
