import CofferStore
import CofferWire

/// EnableKeyRotation: automatic rotation every RotationPeriodInDays (90 … 2560, default 365).
public enum EnableKeyRotation: KMSOperation {
    public static let name = "EnableKeyRotation"
    public static let action = "kms:EnableKeyRotation"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: EnableKeyRotationRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: EnableKeyRotationRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput
    {
        var key = try Rotation.rotatable(try call.requiredKey(), call)
        let days = input.rotationPeriodInDays ?? 365
        key.rotationEnabled = true
        key.rotationPeriodDays = days
        key.nextRotationDate = call.kms.clock() + Int64(days) * 86_400
        try await call.kms.save(key)
        return NoOutput()
    }
}

/// DisableKeyRotation.
public enum DisableKeyRotation: KMSOperation {
    public static let name = "DisableKeyRotation"
    public static let action = "kms:DisableKeyRotation"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: DisableKeyRotationRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(_ input: DisableKeyRotationRequest, _ call: OperationCall) async throws(KMSError) -> NoOutput
    {
        var key = try Rotation.rotatable(try call.requiredKey(), call)
        key.rotationEnabled = false
        key.nextRotationDate = nil
        try await call.kms.save(key)
        return NoOutput()
    }
}

/// GetKeyRotationStatus: whether automatic rotation is on, its period and next date; the key id, as AWS
/// answers it.
public enum GetKeyRotationStatus: KMSOperation {
    public static let name = "GetKeyRotationStatus"
    public static let action = "kms:GetKeyRotationStatus"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: GetKeyRotationStatusRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetKeyRotationStatusRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GetKeyRotationStatusResponse
    {
        let key = try call.requiredKey()
        return GetKeyRotationStatusResponse(
            keyRotationEnabled: key.rotationEnabled, keyId: key.id,
            rotationPeriodInDays: key.rotationEnabled ? key.rotationPeriodDays : nil,
            nextRotationDate: key.rotationEnabled ? key.nextRotationDate.map(Double.init) : nil)
    }
}

/// RotateKeyOnDemand: a new backing key encrypts from now on; older ones still decrypt.
public enum RotateKeyOnDemand: KMSOperation {
    public static let name = "RotateKeyOnDemand"
    public static let action = "kms:RotateKeyOnDemand"
    public static let requirement = KeyRequirement.usable(nil, aliases: false)

    public static func key(in input: RotateKeyOnDemandRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: RotateKeyOnDemandRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> RotateKeyOnDemandResponse
    {
        let key = try Rotation.rotatable(try call.requiredKey(), call)
        try await call.kms.rotate(key, origin: .onDemand)
        return RotateKeyOnDemandResponse(keyId: key.id)
    }
}

/// ListKeyRotations: every completed rotation of a key, oldest first, a page at a time.
public enum ListKeyRotations: KMSOperation {
    public static let name = "ListKeyRotations"
    public static let action = "kms:ListKeyRotations"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: ListKeyRotationsRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ListKeyRotationsRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ListKeyRotationsResponse
    {
        let key = try Rotation.rotatable(try call.requiredKey(), call)
        let (size, after) = try OperationRules.page(limit: input.limit, marker: input.marker)
        let backing = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.backingKeys(key.scope, of: key.id)
        }
        let rotations = backing.reversed().filter { $0.origin != .creation }
        let start: Int
        if let after {
            guard let index = rotations.firstIndex(where: { $0.backingKeyID == after }) else {
                throw KMSError(.invalidMarker, "Invalid marker")
            }
            start = index + 1
        } else {
            start = 0
        }
        let page = rotations.dropFirst(start).prefix(size)
        let truncated = rotations.count > start + size
        return ListKeyRotationsResponse(
            rotations: page.map {
                RotationsListEntry(
                    keyId: key.id, rotationDate: Double($0.createdAt),
                    rotationType: $0.origin == .automatic ? .automatic : .onDemand)
            },
            nextMarker: truncated ? page.last.map { OperationRules.encodeMarker($0.backingKeyID) } : nil,
            truncated: truncated)
    }
}

/// Only symmetric encryption keys rotate (UnsupportedOperationException for the rest, as in AWS).
enum Rotation {
    static func rotatable(_ key: KeyRecord, _ call: OperationCall) throws(KMSError) -> KeyRecord {
        guard key.keySpec == KeySpec.symmetricDefault.rawValue else {
            throw KMSError(.unsupportedOperation, "\(call.arn(key.id)) does not support automatic rotation.")
        }
        return key
    }
}
