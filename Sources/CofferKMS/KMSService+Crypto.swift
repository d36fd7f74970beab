import CofferCrypto
import CofferStore
import CofferWire

extension KMSService {
    /// The only symmetric encryption algorithm.
    public static let symmetricAlgorithm = "SYMMETRIC_DEFAULT"

    /// What Encrypt, ReEncrypt and GenerateDataKey answer.
    public struct Ciphertext: Sendable {
        /// The §8 blob.
        public let blob: [UInt8]
        /// The key's ARN.
        public let keyARN: String
    }

    /// What Decrypt answers.
    public struct Plaintext: Sendable {
        /// The plaintext (secret: it goes only into the response).
        public let plaintext: SecretBytes
        /// The ARN of the key that decrypted it.
        public let keyARN: String
    }

    /// Encrypt: at most 4096 bytes under the key's current backing key, bound to `context`.
    public func encrypt(
        _ keyID: String, plaintext: SecretBytes, context: EncryptionContext, algorithm: String?, region: String
    ) async throws(KMSError) -> Ciphertext {
        try Self.checkAlgorithm(algorithm)
        guard WireLimits.plaintextBytes.contains(plaintext.count) else {
            throw KMSError(.validation, "Plaintext must be 1 … 4096 bytes")
        }
        let record = try await usable(keyID)
        let token = try await currentToken(record)
        guard
            case .ciphertext(let blob) = try await hsmCall(.encrypt(key: token, plaintext: plaintext, context: context))
        else {
            throw KMSError(.internal, "the HSM did not return a ciphertext")
        }
        return Ciphertext(blob: blob, keyARN: arn(record.id, region: region))
    }

    /// Decrypt: the key comes from the blob; `keyID`, when given, must name the same key.
    public func decrypt(
        _ blob: [UInt8], keyID: String?, context: EncryptionContext, algorithm: String?, region: String
    ) async throws(KMSError) -> Plaintext {
        try Self.checkAlgorithm(algorithm)
        let (record, token) = try await keyAndToken(for: blob, expected: keyID)
        guard
            case .plaintext(_, let plaintext) = try await hsmCall(
                .decrypt(key: token, ciphertext: blob, context: context))
        else {
            throw KMSError(.internal, "the HSM did not return a plaintext")
        }
        return Plaintext(plaintext: plaintext, keyARN: arn(record.id, region: region))
    }

    /// ReEncrypt: decrypt under the source key, encrypt under the destination, inside the HSM.
    public func reEncrypt(
        _ blob: [UInt8], sourceKeyID: String?, sourceContext: EncryptionContext, destinationKeyID: String,
        destinationContext: EncryptionContext, region: String
    ) async throws(KMSError) -> (ciphertext: Ciphertext, sourceKeyARN: String) {
        let (source, sourceToken) = try await keyAndToken(for: blob, expected: sourceKeyID)
        let destination = try await usable(destinationKeyID)
        let destinationToken = try await currentToken(destination)
        guard
            case .ciphertext(let moved) = try await hsmCall(
                .reEncrypt(
                    source: sourceToken, ciphertext: blob, sourceContext: sourceContext, destination: destinationToken,
                    destinationContext: destinationContext))
        else { throw KMSError(.internal, "the HSM did not return a ciphertext") }
        return (Ciphertext(blob: moved, keyARN: arn(destination.id, region: region)), arn(source.id, region: region))
    }

    /// GenerateDataKey (with or without the plaintext): `KeySpec` (AES_256, AES_128) or `NumberOfBytes`
    /// (1 … 1024), exactly one of them.
    public func generateDataKey(
        _ keyID: String, keySpec: String?, numberOfBytes: Int?, context: EncryptionContext, returnPlaintext: Bool,
        region: String
    ) async throws(KMSError) -> (ciphertext: Ciphertext, plaintext: SecretBytes?) {
        let length: Int
        switch (keySpec, numberOfBytes) {
        case (nil, nil): throw KMSError(.validation, "Please specify either number of bytes or key spec.")
        case (.some, .some): throw KMSError(.validation, "Please specify either number of bytes or key spec, not both.")
        case ("AES_256"?, nil): length = 32
        case ("AES_128"?, nil): length = 16
        case (let spec?, nil): throw KMSError(.validation, "KeySpec \(spec) is not AES_256 or AES_128")
        case (nil, let bytes?):
            guard WireLimits.dataKeyBytes.contains(bytes) else {
                throw KMSError(.validation, "NumberOfBytes must be 1 … 1024")
            }
            length = bytes
        }
        let record = try await usable(keyID)
        let token = try await currentToken(record)
        guard
            case .dataKey(let plaintext, let blob) = try await hsmCall(
                .generateDataKey(key: token, length: length, context: context, returnPlaintext: returnPlaintext))
        else { throw KMSError(.internal, "the HSM did not return a data key") }
        return (Ciphertext(blob: blob, keyARN: arn(record.id, region: region)), plaintext)
    }

    /// GenerateRandom: 1 … 1024 bytes from an HSM.
    public func generateRandom(numberOfBytes: Int?) async throws(KMSError) -> SecretBytes {
        guard let count = numberOfBytes, WireLimits.dataKeyBytes.contains(count) else {
            throw KMSError(.validation, "NumberOfBytes must be 1 … 1024")
        }
        guard case .random(let bytes) = try await hsmCall(.generateRandom(length: count)) else {
            throw KMSError(.internal, "the HSM did not return random bytes")
        }
        return bytes
    }

    // MARK: Helpers

    static func checkAlgorithm(_ algorithm: String?) throws(KMSError) {
        guard algorithm == nil || algorithm == symmetricAlgorithm else {
            throw KMSError(.invalidKeyUsage, "EncryptionAlgorithm \(algorithm ?? "") is not valid for a symmetric key")
        }
    }

    /// The current (newest) backing-key token of a key.
    func currentToken(_ record: KeyRecord) async throws(KMSError) -> ExportedKeyToken {
        let backing = try await storeCall { () throws(StoreError) in try await store.backingKeys(of: record.id) }
        guard let newest = backing.first, let token = try? ExportedKeyToken(derEncoded: newest.token) else {
            throw KMSError(.internal, "the key has no usable backing key")
        }
        return token
    }

    /// The key a blob was made under, its usability, and the token of the blob's backing key.
    func keyAndToken(for blob: [UInt8], expected: String?) async throws(KMSError) -> (KeyRecord, ExportedKeyToken) {
        guard let parsed = try? CiphertextBlob(bytes: blob),
            let blobKeyID = KeyIdentifier.keyID(fromBytes: parsed.keyID)
        else {
            throw KMSError(.invalidCiphertext, "The ciphertext is invalid")
        }
        if let expected {
            let named = try await resolve(expected)
            guard named.id == blobKeyID else {
                throw KMSError(
                    .incorrectKey, "The key ID in the request does not identify the key used to encrypt the ciphertext")
            }
        }
        let record: KeyRecord
        do {
            record = try await usable(blobKeyID)
        } catch {
            throw error.code == .notFound
                ? KMSError(.invalidCiphertext, "The ciphertext refers to a key that does not exist") : error
        }
        let backing = try await storeCall { () throws(StoreError) in try await store.backingKeys(of: record.id) }
        guard let match = backing.first(where: { $0.backingKeyID == Hex.encode(parsed.backingKeyID) }),
            let token = try? ExportedKeyToken(derEncoded: match.token)
        else { throw KMSError(.invalidCiphertext, "The ciphertext is invalid") }
        return (record, token)
    }
}
