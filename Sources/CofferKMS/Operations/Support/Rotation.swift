import CofferStore
import CofferWire

/// Only symmetric encryption keys rotate, and a multi-Region key only on its primary
/// (UnsupportedOperationException for the rest, as in AWS).
enum Rotation {
    /// `changing`: whether the call changes rotation (not ListKeyRotations, which a replica answers too).
    static func rotatable(_ key: KeyRecord, _ call: OperationCall, changing: Bool = true) throws(KMSError) -> KeyRecord
    {
        guard key.keySpec == KeySpec.symmetricDefault.rawValue, key.origin != ImportRules.external else {
            throw KMSError(.unsupportedOperation, "\(call.arn(key.id)) does not support automatic rotation.")
        }
        // Rotation is a shared property of multi-Region keys, changed on the primary only.
        if changing, key.isReplica, let primary = key.primaryRegion {
            throw KMSError(
                .unsupportedOperation,
                "\(call.arn(key.id)) is a multi-Region replica key; rotate its primary key in \(primary).")
        }
        return key
    }
}
