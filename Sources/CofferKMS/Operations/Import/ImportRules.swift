import CofferStore
import CofferWire

/// What the three import operations share: the key must be of Origin EXTERNAL
/// (UnsupportedOperationException otherwise, as in AWS).
enum ImportRules {
    static let external = "EXTERNAL"

    static func requireExternal(_ key: KeyRecord, _ call: OperationCall) throws(KMSError) {
        guard key.origin == external else {
            throw KMSError(
                .unsupportedOperation,
                "\(call.arn(key.id)) origin is \(key.origin) which is not valid for this operation.")
        }
    }
}
