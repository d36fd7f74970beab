/// A JSON value as the AWS JSON 1.1 protocol carries it, read without losing what Foundation's parser
/// loses: numbers stay numbers (never `Bool`), booleans stay booleans, and an object keeps every member
/// name exactly as sent, in order (Swift `String` equality would merge canonically equivalent names).
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its literal text (checked against JSON's grammar).
    case number(String)
    /// A string, escapes decoded.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object(JSONObject)

    /// The kind of value, as AWS's serialization errors name it (`STRING_VALUE`, …).
    public var kindName: String {
        switch self {
        case .null: "NULL_VALUE"
        case .bool: "BOOLEAN_VALUE"
        case .number: "NUMBER_VALUE"
        case .string: "STRING_VALUE"
        case .array: "START_ARRAY"
        case .object: "START_OBJECT"
        }
    }
}

/// A JSON object: its members in the order sent, names kept byte for byte.
public struct JSONObject: Sendable, Equatable {
    /// The members, in order.
    public var members: [(name: String, value: JSONValue)]

    /// An object of `members`.
    public init(_ members: [(name: String, value: JSONValue)] = []) { self.members = members }

    /// The value of the member whose name has exactly these UTF-8 bytes; nil when absent or `null`
    /// (AWS treats a null member as an absent one).
    public subscript(name: String) -> JSONValue? {
        for member in members where member.name.utf8.elementsEqual(name.utf8) {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy {
                $0.name.utf8.elementsEqual($1.name.utf8) && $0.value == $1.value
            }
    }
}
