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
        let key = try call.requiredKey()
        let now = call.kms.clock()
        // One store transaction decides: a multi-Region primary with replicas waits for their deletion
        // (its window starts after, as in AWS); any other key starts its window now.
        let scheduled = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.scheduleDeletion(key.scope, id: key.id, windowDays: days, now: now)
        }
        return ScheduleKeyDeletionResponse(
            keyId: call.arn(key.id), deletionDate: scheduled.deletionDate.map(Double.init),
            keyState: KeyState(rawValue: scheduled.state.rawValue), pendingWindowInDays: days)
    }
}
