import CofferCrypto
import CofferKMS
import CofferStore
import CofferWire
import Foundation

/// A request body of the AWS JSON 1.1 protocol, read with AWS's errors: a member of the wrong type is a
/// `SerializationException`, a missing required member a `ValidationException`.
struct JSONInput {
    let object: [String: Any]
    private let body: [UInt8]

    init(body: [UInt8]) throws(KMSError) {
        self.body = body
        if body.isEmpty {
            object = [:]
            return
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(body)),
            let dictionary = parsed as? [String: Any]
        else {
            throw KMSError(
                .serialization, "Start of structure or map found where not expected, or the body is not JSON")
        }
        object = dictionary
    }

    func string(_ name: String) throws(KMSError) -> String? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw KMSError(.serialization, "\(name) must be a string") }
        return text
    }

    func required(_ name: String) throws(KMSError) -> String {
        guard let value = try string(name) else {
            throw KMSError(
                .validation,
                "1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null"
            )
        }
        return value
    }

    func int(_ name: String) throws(KMSError) -> Int? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard !(value is Bool), let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) else {
            throw KMSError(.serialization, "\(name) must be an integer")
        }
        return exact
    }

    func bool(_ name: String) throws(KMSError) -> Bool? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let flag = value as? Bool else { throw KMSError(.serialization, "\(name) must be a boolean") }
        return flag
    }

    /// A base64 blob member.
    func blob(_ name: String, required: Bool = true) throws(KMSError) -> [UInt8]? {
        guard let text = try string(name) else {
            if required {
                throw KMSError(
                    .validation,
                    "1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null"
                )
            }
            return nil
        }
        guard let data = Data(base64Encoded: text) else {
            throw KMSError(.serialization, "\(name) is not valid base64")
        }
        return Array(data)
    }

    /// A base64 blob that is secret (a plaintext).
    func secret(_ name: String) throws(KMSError) -> SecretBytes {
        guard var bytes = try blob(name) else { throw KMSError(.validation, "\(name) is required") }
        return SecretBytes(consuming: &bytes)
    }

    /// An encryption context: a JSON object of strings, its keys read from the raw body so that
    /// canonically equivalent keys stay two keys (``RawJSONObject``).
    func context(_ name: String) throws(KMSError) -> EncryptionContext {
        guard let value = object[name], !(value is NSNull) else { return .empty }
        guard value is [String: Any] else { throw KMSError(.serialization, "\(name) must be a map") }
        let raw: [(String, String)]?
        do {
            raw = try RawJSONObject.stringPairs(member: name, in: body)
        } catch {
            throw KMSError(.serialization, "\(name) must be a map of strings")
        }
        let pairs = (raw ?? []).map { EncryptionContext.Pair(key: $0.0, value: $0.1) }
        do {
            return try EncryptionContext(pairs)
        } catch {
            throw KMSError(
                .validation, "\(name) breaks a limit: at most 64 pairs, keys 1 … 2048 bytes, 8192 bytes in all")
        }
    }

    /// `[{TagKey, TagValue}]`.
    func tags(_ name: String) throws(KMSError) -> [TagRecord] {
        guard let value = object[name], !(value is NSNull) else { return [] }
        guard let list = value as? [[String: Any]] else {
            throw KMSError(.serialization, "\(name) must be a list of tags")
        }
        var tags: [TagRecord] = []
        for item in list {
            guard let key = item["TagKey"] as? String, let value = item["TagValue"] as? String else {
                throw KMSError(.serialization, "each tag has TagKey and TagValue strings")
            }
            tags.append(TagRecord(key: key, value: value))
        }
        return tags
    }

    func strings(_ name: String) throws(KMSError) -> [String] {
        guard let value = object[name], !(value is NSNull) else { return [] }
        guard let list = value as? [String] else { throw KMSError(.serialization, "\(name) must be a list of strings") }
        return list
    }
}
