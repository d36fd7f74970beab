import CofferCrypto
import CofferStore
import Foundation

/// How a request names a key: key id, key ARN, alias name or alias ARN (AWS KMS "KeyId"). An ARN of
/// another account or region names nothing here: such a key is NotFound, as in AWS.
enum KeyIdentifier: Equatable {
    case keyID(String)
    case alias(String)

    /// Parses a `KeyId` value for a request of `scope`.
    init(_ text: String, scope: KeyScope) throws(KMSError) {
        if text.hasPrefix("arn:") {
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[1].hasPrefix("aws"), parts[2] == "kms", !parts[3].isEmpty else {
                throw KMSError(.notFound, "Invalid arn \(text)")
            }
            guard parts[3] == scope.region, parts[4] == scope.account else {
                throw KMSError(.notFound, "Key '\(text)' does not exist")
            }
            let resource = String(parts[5])
            if resource.hasPrefix("key/"), resource.count > 4 {
                self = .keyID(String(resource.dropFirst(4)).lowercased())
            } else if resource.hasPrefix("alias/"), resource.count > 6 {
                self = .alias(resource)
            } else {
                throw KMSError(.notFound, "Invalid arn \(text)")
            }
        } else if text.hasPrefix("alias/") {
            self = .alias(text)
        } else {
            guard Self.isKeyID(text) else { throw KMSError(.notFound, "Invalid keyId '\(text)'") }
            self = .keyID(text.lowercased())
        }
    }

    /// A key id: a UUID, or `mrk-` and 32 hex digits (a multi-Region key).
    static func isKeyID(_ text: String) -> Bool {
        if text.hasPrefix("mrk-") {
            let hex = text.dropFirst(4)
            return hex.count == 32 && hex.allSatisfy { $0.isASCII && $0.isHexDigit }
        }
        return UUID(uuidString: text) != nil
    }

    /// The 16 bytes of a key id (the blob's key ID field, PROTOCOL §8): a UUID's, or the 32 hex digits
    /// of a multi-Region id.
    static func bytes(ofKeyID id: String) -> [UInt8]? {
        if id.hasPrefix("mrk-") {
            guard isKeyID(id) else { return nil }
            return Hex.decode(id.dropFirst(4))
        }
        guard let uuid = UUID(uuidString: id) else { return nil }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    /// The UUID key id of 16 bytes.
    static func keyID(fromBytes bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return nil }
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }

    /// The key ids whose bytes are `bytes`: the UUID form and the multi-Region form. A blob's 16 bytes do
    /// not say which; a scope holds at most one of the two (CreateKey and ReplicateKey never make both).
    static func keyIDs(fromBytes bytes: [UInt8]) -> [String] {
        guard let uuid = keyID(fromBytes: bytes) else { return [] }
        return [uuid, "mrk-" + Hex.encode(bytes)]
    }

    /// A new multi-Region key id: `mrk-` and 32 random hex digits.
    static func newMultiRegionID() -> String {
        "mrk-" + Hex.encode(SystemEntropy.bytes(count: 16))
    }
}
