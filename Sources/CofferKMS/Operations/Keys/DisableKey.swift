import CofferStore
import CofferWire

/// DisableKey: the key refuses cryptographic operations until enabled again.
public enum DisableKey: KMSOperation {
    public static let name = "DisableKey"
    public static let action = "kms:DisableKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: DisableKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: DisableKeyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        var key = try call.requiredKey()
        guard key.state != .pendingImport else {
            throw KMSError(.invalidState, "\(call.arn(key.id)) is pending import.")
        }
        key.state = .disabled
        try await call.kms.save(key)
        return NoOutput()
    }
}
