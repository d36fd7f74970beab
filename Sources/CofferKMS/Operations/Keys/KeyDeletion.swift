import CofferStore
import CofferWire

/// ScheduleKeyDeletion: the key is unusable at once and deleted when its window (7 … 30 days) passes.
public enum ScheduleKeyDeletion: KMSOperation {
    public static let name = "ScheduleKeyDeletion"
    public static let action = "kms:ScheduleKeyDeletion"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: ScheduleKeyDeletionRequest) -> KeyReference? { .named(input.keyId) }

    /// The model allows 1 … 365 days; KMS accepts 7 … 30 and says so in its validation wording.
    public static func validate(_ input: ScheduleKeyDeletionRequest) throws(KMSError) {
        let days = input.pendingWindowInDays ?? 30
        let window = KMSService.Limits.pendingWindowDays
        guard window.contains(days) else {
            let bound =
                days < window.lowerBound
                ? "greater than or equal to \(window.lowerBound)" : "less than or equal to \(window.upperBound)"
            throw KMSError(
                .validation,
                "1 validation error detected: Value '\(days)' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value \(bound)"
            )
        }
    }

    public static func run(
        _ input: ScheduleKeyDeletionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> ScheduleKeyDeletionResponse
    {
        let days = input.pendingWindowInDays ?? 30
        var key = try call.requiredKey()
        key.state = .pendingDeletion
        key.deletionDate = call.kms.clock() + Int64(days) * 86_400
        try await call.kms.save(key)
        return ScheduleKeyDeletionResponse(
            keyId: call.arn(key.id), deletionDate: key.deletionDate.map(Double.init), keyState: .pendingDeletion,
            pendingWindowInDays: days)
    }
}

/// CancelKeyDeletion: the key returns as Disabled, as in AWS.
public enum CancelKeyDeletion: KMSOperation {
    public static let name = "CancelKeyDeletion"
    public static let action = "kms:CancelKeyDeletion"
    public static let requirement = KeyRequirement.pendingDeletion

    public static func key(in input: CancelKeyDeletionRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: CancelKeyDeletionRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> CancelKeyDeletionResponse
    {
        var key = try call.requiredKey()
        key.state = .disabled
        key.deletionDate = nil
        try await call.kms.save(key)
        return CancelKeyDeletionResponse(keyId: call.arn(key.id))
    }
}
