import CofferStore
import CofferWire

/// DescribeKey: a key's metadata, in any state, named by id, ARN, alias name or alias ARN.
public enum DescribeKey: KMSOperation {
    public static let name = "DescribeKey"
    public static let action = "kms:DescribeKey"
    public static let requirement = KeyRequirement.any(aliases: true)

    public static func key(in input: DescribeKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: DescribeKeyRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> DescribeKeyResponse
    {
        DescribeKeyResponse(keyMetadata: try await call.kms.metadata(of: try call.requiredKey()))
    }
}
