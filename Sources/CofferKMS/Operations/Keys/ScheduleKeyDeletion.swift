import CofferStore
import CofferWire

/// ScheduleKeyDeletion: the key is unusable at once and deleted when its window (7 … 30 days) passes; a
/// multi-Region primary key with replicas first waits for them to be deleted (PendingReplicaDeletion).
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
        // A multi-Region primary with replicas waits for their deletion; its window starts after (AWS).
        if !key.isReplica, try await call.kms.related(key).contains(where: { $0.scope != key.scope }) {
            key.state = .pendingReplicaDeletion
            key.pendingWindowDays = days
            try await call.kms.save(key)
            return ScheduleKeyDeletionResponse(
                keyId: call.arn(key.id), keyState: .pendingReplicaDeletion, pendingWindowInDays: days)
        }
        key.state = .pendingDeletion
        key.deletionDate = call.kms.clock() + Int64(days) * 86_400
        try await call.kms.save(key)
        return ScheduleKeyDeletionResponse(
            keyId: call.arn(key.id), deletionDate: key.deletionDate.map(Double.init), keyState: .pendingDeletion,
            pendingWindowInDays: days)
    }
}
