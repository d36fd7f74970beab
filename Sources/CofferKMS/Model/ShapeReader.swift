import CofferCrypto
import CofferJSON

/// Reads the members of a request as the generated shapes ask, the way AWS's front end does: a value of
/// the wrong JSON type stops the request at once (SerializationException); every broken constraint of
/// the model (a required member missing, a length, a range, an enum value set, a pattern) is recorded,
/// and all of them are answered together in one ValidationException in AWS's words:
/// `1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have
/// value greater than or equal to 1`. Values of sensitive members and blobs are never quoted.
public final class ShapeReader {
    /// The most violations quoted in one answer; the count names them all. A body of a million empty
    /// strings must not become a response a hundred times its size.
    static let quotedViolations = 10

    private var violations: [String] = []
    private var violationCount = 0

    init() {}

    /// `parent.member`, or `member` at the top.
    public func path(_ parent: String, _ member: String) -> String {
        parent.isEmpty ? member : parent + "." + member
    }

    /// Throws the ValidationException for what was recorded, if anything was.
    public func finish() throws(KMSError) {
        guard violationCount > 0 else { return }
        throw failure()
    }

    /// The ValidationException for what was recorded.
    public func failure() -> KMSError {
        let count = violationCount
        let head = count == 1 ? "1 validation error detected: " : "\(count) validation errors detected: "
        let more = count > violations.count ? "; and \(count - violations.count) more" : ""
        return KMSError(.validation, head + violations.joined(separator: "; ") + more)
    }

    private func record(_ message: @autoclosure () -> String) {
        violationCount += 1
        if violations.count < Self.quotedViolations { violations.append(message()) }
    }

    private func violation(_ value: String?, _ path: String, _ constraint: String) {
        let quoted = value.map { "Value '\($0)' at" } ?? "Value at"
        record("\(quoted) '\(path)' failed to satisfy constraint: \(constraint)")
    }

    private static func mismatch(_ value: JSONValue, _ type: String) -> KMSError {
        switch value {
        case .object: KMSError(.serialization, "Start of structure or map found where not expected.")
        case .array: KMSError(.serialization, "Start of list found where not expected")
        default: KMSError(.serialization, "\(value.kindName) can not be converted to \(type)")
        }
    }

    // MARK: Presence

    /// A required member: records "Member must not be null" when it is absent.
    public func required<T>(_ value: T?, at path: String) -> T? {
        if value == nil {
            record("Value null at '\(path)' failed to satisfy constraint: Member must not be null")
        }
        return value
    }

    private func length(_ count: Int, _ quoted: String?, _ path: String, min: Int?, max: Int?) {
        if let min, count < min { violation(quoted, path, "Member must have length greater than or equal to \(min)") }
        if let max, count > max { violation(quoted, path, "Member must have length less than or equal to \(max)") }
    }

    // MARK: Scalars

    /// A string member. Its length is counted in UTF-16 code units, as AWS's (Java) front end counts it.
    public func string(
        _ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil, pattern: ShapePattern? = nil,
        sensitive: Bool = false
    ) throws(KMSError) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw Self.mismatch(value, "a String") }
        let quoted = sensitive ? nil : text
        let count = text.utf16.count
        length(count, quoted, path, min: min, max: max)
        // A value already too long is not also matched: Regex's cost grows with the value.
        if let pattern, count <= max ?? Int.max, !pattern.matches(text) {
            violation(quoted, path, "Member must satisfy regular expression pattern: \(pattern.aws)")
        }
        return text
    }

    /// A string enumeration member: a value outside the set is recorded with the whole set.
    public func enumeration<E: KMSEnumeration>(_ value: JSONValue?, at path: String, as: E.Type) throws(KMSError) -> E?
    {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw Self.mismatch(value, "a String") }
        guard let member = E(rawValue: text) else {
            violation(text, path, "Member must satisfy enum value set: \(E.valueSet)")
            return nil
        }
        return member
    }

    /// An integer member: a JSON integer (never `true`, never `1.5`), within the model's range.
    public func integer(_ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil) throws(KMSError) -> Int?
    {
        guard let value else { return nil }
        guard case .number(let text) = value, let number = Int(text) else {
            throw Self.mismatch(value, "an Integer")
        }
        if let min, number < min { violation(text, path, "Member must have value greater than or equal to \(min)") }
        if let max, number > max { violation(text, path, "Member must have value less than or equal to \(max)") }
        return number
    }

    /// A long member.
    public func long(_ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil) throws(KMSError) -> Int64?
    {
        guard let value else { return nil }
        guard case .number(let text) = value, let number = Int64(text) else { throw Self.mismatch(value, "a Long") }
        if let min, number < min { violation(text, path, "Member must have value greater than or equal to \(min)") }
        if let max, number > max { violation(text, path, "Member must have value less than or equal to \(max)") }
        return number
    }

    /// A boolean member: `true` or `false` only (a 0 or 1 is a number, as JSON says).
    public func boolean(_ value: JSONValue?, at path: String) throws(KMSError) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else { throw Self.mismatch(value, "a Boolean") }
        return flag
    }

    /// A timestamp member: seconds since 1970 as a JSON number.
    public func timestamp(_ value: JSONValue?, at path: String) throws(KMSError) -> Double? {
        guard let value else { return nil }
        guard case .number(let text) = value, let seconds = Double(text), seconds.isFinite else {
            throw Self.mismatch(value, "a Timestamp")
        }
        return seconds
    }

    /// A blob member (base64), its decoded length checked.
    public func blob(
        _ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil
    ) throws(KMSError) -> [UInt8]? {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw Self.mismatch(value, "a Blob") }
        guard let bytes = Base64.decode(text.utf8) else {
            throw KMSError(.serialization, "The value of '\(path)' is not valid base64")
        }
        length(bytes.count, nil, path, min: min, max: max)
        return bytes
    }

    /// A sensitive blob member (a plaintext), decoded straight into ``SecretBytes``.
    public func secret(
        _ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil
    ) throws(KMSError) -> SecretBytes? {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw Self.mismatch(value, "a Blob") }
        guard let count = Base64.decodedCount(text.utf8) else {
            throw KMSError(.serialization, "The value of '\(path)' is not valid base64")
        }
        var valid = false
        let secret = SecretBytes(count: count) { valid = Base64.decode(text.utf8, into: $0) }
        guard valid else { throw KMSError(.serialization, "The value of '\(path)' is not valid base64") }
        length(count, nil, path, min: min, max: max)
        return secret
    }

    // MARK: Containers

    /// A list member; `element` reads each element at `path.N.member` (1-based, as AWS counts).
    public func list<T>(
        _ value: JSONValue?, at path: String, min: Int? = nil, max: Int? = nil,
        element: (ShapeReader, JSONValue, String) throws(KMSError) -> T?
    ) throws(KMSError) -> [T]? {
        guard let value else { return nil }
        guard case .array(let elements) = value else { throw Self.mismatch(value, "a List") }
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for (index, item) in elements.enumerated() {
            if let read = try element(self, item, "\(path).\(index + 1).member") { out.append(read) }
        }
        length(elements.count, nil, path, min: min, max: max)
        return out
    }

    /// A map of strings (the encryption context), every name kept exactly as sent.
    public func map(
        _ value: JSONValue?, at path: String, keyMin: Int? = nil, keyMax: Int? = nil, valueMin: Int? = nil,
        valueMax: Int? = nil
    ) throws(KMSError) -> StringPairs? {
        guard let value else { return nil }
        guard case .object(let object) = value else { throw Self.mismatch(value, "a Map") }
        var pairs: [(key: String, value: String)] = []
        for member in object.members {
            guard case .string(let text) = member.value else { throw Self.mismatch(member.value, "a String") }
            length(member.name.utf16.count, member.name, "\(path).key", min: keyMin, max: keyMax)
            length(text.utf16.count, text, "\(path).value", min: valueMin, max: valueMax)
            pairs.append((member.name, text))
        }
        return StringPairs(pairs)
    }

    /// A structure member.
    public func structure<S: KMSShape>(_ value: JSONValue?, at path: String, as: S.Type) throws(KMSError) -> S? {
        guard let value else { return nil }
        guard case .object(let object) = value else {
            if case .array = value { throw Self.mismatch(value, "a Structure") }
            throw KMSError(.serialization, "\(value.kindName) can not be converted to a Structure")
        }
        return try S(reading: object, at: path, with: self)
    }
}
