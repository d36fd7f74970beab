import CofferStore
import CofferWire

/// ScheduleKeyDeletion: the key is unusable at once and deleted when its window (7 … 30 days) passes.
public enum ScheduleKeyDeletion: KMSOperation {
    public static let name = "ScheduleKeyDeletion"
    public static let action = "kms:ScheduleKeyDeletion"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: ScheduleKeyDeletionRequest) -> KeyReference? { .named(input.keyId) }

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
