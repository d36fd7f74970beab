/// A strict JSON reader (RFC 8259) for request bodies: one value, optional surrounding white space,
/// valid UTF-8, no lone surrogates, no control characters in strings, numbers by JSON's grammar, at most
/// ``maximumDepth`` levels of nesting, and no object naming a member twice. It never traps on input.
public struct JSONReader {
    /// The deepest nesting of arrays and objects accepted. The deepest KMS request shape is four levels
    /// (a grant's constraints' context); 32 leaves room without letting a body exhaust the stack.
    public static let maximumDepth = 32

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Reads a whole body as one JSON value.
    public static func read(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.value()
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw JSONError(.malformed, at: reader.index) }
        return value
    }

    private mutating func value() throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw JSONError(.malformed, at: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["): return .array(try array())
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return .number(try number())
        }
    }

    private mutating func literal(_ text: StaticString, _ value: JSONValue) throws(JSONError) -> JSONValue {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw JSONError(.malformed, at: index) }
        let matches = text.withUTF8Buffer { expected in bytes[index..<(index + count)].elementsEqual(expected) }
        guard matches else { throw JSONError(.malformed, at: index) }
        index += count
        return value
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw JSONError(.tooDeep, at: index) }
    }

    private mutating func object() throws(JSONError) -> JSONObject {
        try enter()
        index += 1
        var members: [(name: String, value: JSONValue)] = []
        var names = Set<[UInt8]>()
        skipWhitespace()
        if take(UInt8(ascii: "}")) {
            depth -= 1
            return JSONObject(members)
        }
        repeat {
            skipWhitespace()
            let start = index
            let name = try string()
            guard names.insert(Array(name.utf8)).inserted else { throw JSONError(.duplicateMember, at: start) }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { throw JSONError(.malformed, at: index) }
            skipWhitespace()
            members.append((name, try value()))
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { throw JSONError(.malformed, at: index) }
        depth -= 1
        return JSONObject(members)
    }

    private mutating func array() throws(JSONError) -> [JSONValue] {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if take(UInt8(ascii: "]")) {
            depth -= 1
            return elements
        }
        repeat {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "]")) else { throw JSONError(.malformed, at: index) }
        depth -= 1
        return elements
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as its text.
    private mutating func number() throws(JSONError) -> String {
        let start = index
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            // A leading zero stands alone.
        } else {
            guard digits() > 0 else { throw JSONError(.malformed, at: index) }
        }
        if take(UInt8(ascii: ".")) {
            guard digits() > 0 else { throw JSONError(.malformed, at: index) }
        }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard digits() > 0 else { throw JSONError(.malformed, at: index) }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    /// A string, escapes decoded, its scalars exactly as sent (no normalization).
    private mutating func string() throws(JSONError) -> String {
        guard take(UInt8(ascii: "\"")) else { throw JSONError(.malformed, at: index) }
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ end: Int) throws(JSONError) {
            guard end > runStart else { return }
            guard let text = String(validating: bytes[runStart..<end], as: UTF8.self) else {
                throw JSONError(.malformed, at: runStart)
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard !scalars.isEmpty else {
                    // No escape so far (each appends a scalar): the bytes themselves, validated once (most
                    // strings of a request).
                    guard let text = String(validating: bytes[runStart..<index], as: UTF8.self) else {
                        throw JSONError(.malformed, at: runStart)
                    }
                    index += 1
                    return text
                }
                try flush(index)
                index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush(index)
                index += 1
                scalars.append(try escape())
                runStart = index
            case 0x00..<0x20:
                throw JSONError(.malformed, at: index)
            default:
                index += 1
            }
        }
        throw JSONError(.malformed, at: index)
    }

    private mutating func escape() throws(JSONError) -> Unicode.Scalar {
        guard index < bytes.count else { throw JSONError(.malformed, at: index) }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{c}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            var unit = try hex4()
            if (0xD800...0xDBFF).contains(unit) {
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else { throw JSONError(.malformed, at: index) }
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONError(.malformed, at: index) }
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(unit) else { throw JSONError(.malformed, at: index) }
            return scalar
        default: throw JSONError(.malformed, at: index - 1)
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw JSONError(.malformed, at: index) }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError(.malformed, at: index)
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
