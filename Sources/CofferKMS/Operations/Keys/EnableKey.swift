import CofferStore
import CofferWire

/// EnableKey: a Disabled key becomes Enabled (a key pending deletion stays as it is).
public enum EnableKey: KMSOperation {
    public static let name = "EnableKey"
    public static let action = "kms:EnableKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: EnableKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EnableKeyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        try await call.kms.modify(try call.requiredKey(), requirement) { (key: inout KeyRecord) throws(KMSError) in
            guard key.state != .pendingImport else {
                throw KMSError(.invalidState, "\(call.arn(key.id)) is pending import.")
            }
            key.state = .enabled
        }
        return NoOutput()
    }
}
