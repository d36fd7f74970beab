import Foundation

/// How a request names a key: key id, key ARN, alias name or alias ARN (AWS KMS "KeyId").
enum KeyIdentifier: Equatable {
    case keyID(String)
    case alias(String)

    /// Parses a `KeyId` value. `arn:aws:kms:REGION:ACCOUNT:key/ID` and `…:alias/NAME` must be of this account.
    init(_ text: String, account: String) throws(KMSError) {
        if text.hasPrefix("arn:") {
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[1] == "aws", parts[2] == "kms", !parts[3].isEmpty else {
                throw KMSError(.notFound, "Invalid arn \(text)")
            }
            guard parts[4] == account else { throw KMSError(.notFound, "Key '\(text)' does not exist") }
            let resource = String(parts[5])
            if resource.hasPrefix("key/") {
                self = .keyID(String(resource.dropFirst(4)))
            } else if resource.hasPrefix("alias/") {
                self = .alias(resource)
            } else {
                throw KMSError(.notFound, "Invalid arn \(text)")
            }
        } else if text.hasPrefix("alias/") {
            self = .alias(text)
        } else {
            guard !text.isEmpty else { throw KMSError(.validation, "KeyId must not be empty") }
            self = .keyID(text.lowercased())
        }
    }

    /// The 16 bytes of a UUID key id (the blob's key ID field, PROTOCOL §8).
    static func bytes(ofKeyID id: String) -> [UInt8]? {
        guard let uuid = UUID(uuidString: id) else { return nil }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    /// The key id string of 16 UUID bytes.
    static func keyID(fromBytes bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return nil }
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}
