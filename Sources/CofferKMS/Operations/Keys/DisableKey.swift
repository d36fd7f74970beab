import CofferStore
import CofferWire

/// DisableKey: the key refuses cryptographic operations until enabled again.
public enum DisableKey: KMSOperation {
    public static let name = "DisableKey"
    public static let action = "kms:DisableKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: DisableKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: DisableKeyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        try await call.kms.modify(try call.requiredKey(), requirement) { (key: inout KeyRecord) throws(KMSError) in
            guard key.state != .pendingImport else {
                throw KMSError(.invalidState, "\(call.arn(key.id)) is pending import.")
            }
            key.state = .disabled
        }
        return NoOutput()
    }
}
