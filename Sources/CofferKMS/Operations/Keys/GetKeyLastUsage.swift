import CofferJSON
import CofferStore
import CofferWire

/// GetKeyLastUsage: the key's last successful cryptographic operation, read from the audit log (its
/// operation, time, event id and request id), and when the log began tracking.
public enum GetKeyLastUsage: KMSOperation {
    public static let name = "GetKeyLastUsage"
    public static let action = "kms:GetKeyLastUsage"
    public static let requirement = KeyRequirement.any(aliases: false)

    public static func key(in input: GetKeyLastUsageRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: GetKeyLastUsageRequest, _ call: OperationCall
    ) async throws(KMSError)
        -> GetKeyLastUsageResponse
    {
        let key = try call.requiredKey()
        let arn = call.arn(key.id)
        let operations = KeyLastUsageTrackingOperation.allCases.map(\.rawValue)
        let use = try await call.kms.storeCall { () throws(StoreError) in
            try await call.kms.store.lastUse(of: arn, operations: operations)
        }
        return GetKeyLastUsageResponse(
            keyId: arn,
            keyLastUsage: use.row.map {
                KeyLastUsageData(
                    operation: KeyLastUsageTrackingOperation(rawValue: $0.entry.operation),
                    timestamp: Double($0.entry.time), cloudTrailEventId: $0.entry.eventID,
                    kmsRequestId: Self.requestID($0.entry.record))
            },
            trackingStartDate: use.trackingStart.map(Double.init), keyCreationDate: Double(key.creationDate))
    }

    /// The request id inside a stored record.
    private static func requestID(_ record: String) -> String? {
        guard case .object(let object)? = try? JSONReader.read(Array(record.utf8)),
            case .string(let id)? = object["requestID"]
        else { return nil }
        return id
    }
}
