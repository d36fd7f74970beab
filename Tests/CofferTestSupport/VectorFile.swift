import CofferCrypto
import Foundation

/// Loading of the JSON known-answer files that test targets carry under `Vectors/`.
public enum VectorFile {
    /// Parses a JSON file from a test bundle.
    public static func load(_ name: String, from bundle: Bundle) throws -> [String: Any] {
        guard let url = bundle.url(forResource: name, withExtension: "json", subdirectory: "Vectors") else {
            throw VectorError("no vector file \(name).json in \(bundle.bundlePath)")
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dictionary = object as? [String: Any] else { throw VectorError("\(name).json is not an object") }
        return dictionary
    }
}

/// A vector file that does not have the expected shape: the test fails loudly rather than skip.
public struct VectorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == Any {
    /// A required hex field as bytes.
    public func hex(_ key: String) throws -> [UInt8] {
        guard let text = self[key] as? String, let bytes = Hex.decode(text) else {
            throw VectorError("field \(key) is missing or not hex")
        }
        return bytes
    }

    /// A required string field.
    public func string(_ key: String) throws -> String {
        guard let text = self[key] as? String else { throw VectorError("field \(key) is missing") }
        return text
    }

    /// A required integer field.
    public func int(_ key: String) throws -> Int {
        guard let value = self[key] as? Int else { throw VectorError("field \(key) is missing or not an integer") }
        return value
    }

    /// A required object field.
    public func object(_ key: String) throws -> [String: Any] {
        guard let value = self[key] as? [String: Any] else { throw VectorError("field \(key) is missing") }
        return value
    }

    /// A required array-of-objects field.
    public func objects(_ key: String) throws -> [[String: Any]] {
        guard let value = self[key] as? [[String: Any]] else { throw VectorError("field \(key) is missing") }
        return value
    }
}

/// Counts what a known-answer test ran, so the log shows it and a test can check nothing was dropped.
public struct CaseCount: CustomStringConvertible {
    public var valid = 0
    public var invalid = 0
    public var acceptable = 0
    public var skipped: [String: Int] = [:]

    public init() {}

    /// Counts one case by its Wycheproof `result`.
    public mutating func ran(_ result: String) {
        switch result {
        case "valid": valid += 1
        case "invalid": invalid += 1
        default: acceptable += 1
        }
    }

    /// Counts one deliberately skipped case with the reason.
    public mutating func skip(_ reason: String) { skipped[reason, default: 0] += 1 }

    public var ran: Int { valid + invalid + acceptable }
    public var total: Int { ran + skipped.values.reduce(0, +) }

    public var description: String {
        let skips = skipped.isEmpty ? "none skipped" : skipped.map { "skipped \($1): \($0)" }.joined(separator: "; ")
        return "ran \(ran) cases (valid \(valid), invalid \(invalid), acceptable \(acceptable)); \(skips)"
    }
}
