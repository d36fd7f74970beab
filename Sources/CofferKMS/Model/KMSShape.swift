import CofferCrypto
import CofferJSON

/// A structure of the AWS KMS API (generated from botocore's model into `Model/Generated`): read from
/// AWS JSON with AWS's type and constraint checks, written back with AWS's member names.
public protocol KMSShape: Sendable {
    /// Reads `object`'s members at `path` (AWS's dotted member path, empty at the top).
    init(reading object: JSONObject, at path: String, with r: ShapeReader) throws(KMSError)
    /// Writes the members that are set.
    func write(to w: inout JSONWriter)
    /// Whether the request asked for a dry run (`DryRun: true`; false for shapes without the member).
    var isDryRun: Bool { get }
}

extension KMSShape {
    public var isDryRun: Bool { false }

    /// Reads a request body: JSON (SerializationException when it is not, or a member has the wrong
    /// type), then every constraint of the model (one ValidationException listing all that fail). An
    /// empty body is an empty object, as AWS reads it.
    public init(json body: [UInt8]) throws(KMSError) {
        try self.init(object: Self.requestObject(body))
    }

    /// Reads a request body's object (``requestObject(_:)``) against the model.
    public init(object: JSONObject) throws(KMSError) {
        let reader = ShapeReader()
        self = try Self(reading: object, at: "", with: reader)
        try reader.finish()
    }

    /// A request body as a JSON object: SerializationException when it is not one; an empty body is an
    /// empty object, as AWS reads it.
    public static func requestObject(_ body: [UInt8]) throws(KMSError) -> JSONObject {
        let value: JSONValue
        if body.isEmpty {
            value = .object(JSONObject())
        } else {
            do {
                value = try JSONReader.read(body)
            } catch {
                switch error.code {
                case .duplicateMember: throw KMSError(.serialization, "Duplicate field in the JSON object")
                case .tooDeep: throw KMSError(.serialization, "The JSON body is nested too deeply")
                default: throw KMSError(.serialization, "The request body is not valid JSON")
                }
            }
        }
        guard case .object(let object) = value else {
            throw KMSError(.serialization, "\(value.kindName) can not be converted to a Structure")
        }
        return object
    }

    /// The AWS JSON body of this value.
    public var json: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}

/// A string enumeration of the AWS KMS API: its raw values are AWS's, in the model's order.
public protocol KMSEnumeration: RawRepresentable<String>, CaseIterable, Hashable, Sendable {}

extension KMSEnumeration {
    /// `[A, B, C]`, as AWS's "enum value set" validation message lists the values.
    static var valueSet: String { "[" + allCases.map(\.rawValue).joined(separator: ", ") + "]" }
}

/// A string-to-string map (the encryption context), its pairs exactly as sent and in order: two names
/// that Swift's `String` would call equal stay two names (PROTOCOL §2).
public struct StringPairs: Sendable, Equatable {
    /// The pairs.
    public var pairs: [(key: String, value: String)]

    /// A map of `pairs`.
    public init(_ pairs: [(key: String, value: String)] = []) { self.pairs = pairs }

    public static func == (lhs: StringPairs, rhs: StringPairs) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy {
                $0.key.utf8.elementsEqual($1.key.utf8) && $0.value.utf8.elementsEqual($1.value.utf8)
            }
    }
}

/// A pattern of the model: the text AWS quotes in its message, and the same pattern compiled once for
/// Swift's Regex (`\uHHHH` spelled `\u{HHHH}`, Java's ASCII-only `\w` and `\d` spelled out), matched
/// against the whole value by Unicode scalars, as Java matches (a CRLF is two characters there, and so
/// here).
public struct ShapePattern: Sendable {
    /// The pattern as AWS's validation message quotes it.
    public let aws: String
    /// The Swift spelling.
    let swift: String
    /// The compiled pattern; nil only if the Swift spelling does not compile, which the model test rules
    /// out for every pattern of the model. Regex values are immutable, so sharing one is safe.
    nonisolated(unsafe) private let regex: Regex<AnyRegexOutput>?

    init(aws: String, swift: String) {
        self.aws = aws
        self.swift = swift
        regex = (try? Regex(swift))?.matchingSemantics(.unicodeScalar)
    }

    /// Whether the whole of `value` matches.
    func matches(_ value: String) -> Bool {
        guard let regex else { return false }
        return (try? regex.wholeMatch(in: value)) != nil
    }
}
