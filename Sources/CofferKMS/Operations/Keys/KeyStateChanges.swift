import CofferStore
import CofferWire

/// EnableKey: a Disabled key becomes Enabled (a key pending deletion stays as it is).
public enum EnableKey: KMSOperation {
    public static let name = "EnableKey"
    public static let action = "kms:EnableKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: EnableKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EnableKeyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        var key = try call.requiredKey()
        key.state = .enabled
        try await call.kms.save(key)
        return NoOutput()
    }
}

/// DisableKey: the key refuses cryptographic operations until enabled again.
public enum DisableKey: KMSOperation {
    public static let name = "DisableKey"
    public static let action = "kms:DisableKey"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: DisableKeyRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: DisableKeyRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput {
        var key = try call.requiredKey()
        key.state = .disabled
        try await call.kms.save(key)
        return NoOutput()
    }
}

/// UpdateKeyDescription.
public enum UpdateKeyDescription: KMSOperation {
    public static let name = "UpdateKeyDescription"
    public static let action = "kms:UpdateKeyDescription"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: UpdateKeyDescriptionRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: UpdateKeyDescriptionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> NoOutput
    {
        var key = try call.requiredKey()
        key.description = input.description
        try await call.kms.save(key)
        return NoOutput()
    }
}

extension KMSService {
    /// Writes a key's changed metadata.
    func save(_ key: KeyRecord) async throws(KMSError) {
        try await storeCall { () throws(StoreError) in try await store.updateKey(key) }
    }
}
