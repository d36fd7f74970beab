import CofferStore
import CofferWire

/// Only symmetric encryption keys rotate (UnsupportedOperationException for the rest, as in AWS).
enum Rotation {
    static func rotatable(_ key: KeyRecord, _ call: OperationCall) throws(KMSError) -> KeyRecord {
        guard key.keySpec == KeySpec.symmetricDefault.rawValue, key.origin != ImportRules.external else {
            throw KMSError(.unsupportedOperation, "\(call.arn(key.id)) does not support automatic rotation.")
        }
        return key
    }
}
