import CofferStore
import CofferWire

/// GenerateRandom: 1 … 1024 bytes from an HSM's random generator.
public enum GenerateRandom: KMSOperation {
    public static let name = "GenerateRandom"
    public static let action = "kms:GenerateRandom"
    public static let requirement = KeyRequirement.none

    public static func run(
        _ input: GenerateRandomRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GenerateRandomResponse
    {
        try OperationRules.refuseRecipient(input.recipient)
        guard input.customKeyStoreId == nil else {
            throw KMSError(.unsupportedOperation, "Coffer has no custom key stores")
        }
        guard let count = input.numberOfBytes else { throw missingMember("numberOfBytes") }
        guard case .random(let bytes) = try await call.hsm(.generateRandom(length: count)) else {
            throw KMSError(.internal, "the HSM did not return random bytes")
        }
        return GenerateRandomResponse(plaintext: bytes)
    }
}
