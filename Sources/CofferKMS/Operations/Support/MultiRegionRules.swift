import CofferStore
import CofferWire

/// What ReplicateKey and UpdatePrimaryRegion require of the key they name: a multi-Region primary key
/// (UnsupportedOperationException otherwise, as in AWS).
enum MultiRegionRules {
    static func primary(_ key: KeyRecord, _ call: OperationCall) throws(KMSError) -> KeyRecord {
        guard key.isMultiRegion else {
            throw KMSError(.unsupportedOperation, "\(call.arn(key.id)) is not a multi-Region key.")
        }
        guard !key.isReplica else {
            throw KMSError(
                .unsupportedOperation,
                "\(call.arn(key.id)) is a multi-Region replica key; its primary key is in \(key.primaryRegion ?? "").")
        }
        return key
    }
}
