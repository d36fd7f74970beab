/// Reads one member of a JSON object body whose value is an object of strings, keeping every key exactly
/// as sent: Foundation's parser builds `String`-keyed dictionaries, and Swift `String` equality merges
/// canonically equivalent keys ("é" and "e\u{301}"), which PROTOCOL §2 and AWS treat as two keys of an
/// encryption context. Only this member is read here; the rest of the body was validated by Foundation.
package enum RawJSONObject {
    package struct Malformed: Error {}

    /// The `(key, value)` pairs of `body[member]`, in the order sent, or nil when the member is absent
    /// or null. Throws when the body is not JSON or the member is not an object of strings.
    package static func stringPairs(member: String, in body: [UInt8]) throws -> [(String, String)]? {
        var scanner = Scanner(bytes: body)
        scanner.skipWhitespace()
        guard scanner.take(UInt8(ascii: "{")) else { throw Malformed() }
        var result: [(String, String)]?
        scanner.skipWhitespace()
        if scanner.take(UInt8(ascii: "}")) { return nil }
        repeat {
            scanner.skipWhitespace()
            let key = try scanner.string()
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: ":")) else { throw Malformed() }
            scanner.skipWhitespace()
            if key == member {
                if scanner.peekNull() {
                    try scanner.skipValue()
                } else {
                    result = try scanner.stringObject()
                }
            } else {
                try scanner.skipValue()
            }
            scanner.skipWhitespace()
        } while scanner.take(UInt8(ascii: ","))
        guard scanner.take(UInt8(ascii: "}")) else { throw Malformed() }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        func peekNull() -> Bool { bytes[index...].starts(with: Array("null".utf8)) }

        /// A JSON string, escapes decoded (surrogate pairs included), as a String of its exact scalars.
        mutating func string() throws -> String {
            guard take(UInt8(ascii: "\"")) else { throw Malformed() }
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() throws {
                guard let text = String(validating: raw, as: UTF8.self) else { throw Malformed() }
                scalars.append(contentsOf: text.unicodeScalars)
                raw.removeAll()
            }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    try flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush()
                    guard index < bytes.count else { throw Malformed() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{c}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        var unit = try hex4()
                        if (0xD800...0xDBFF).contains(unit) {
                            guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else { throw Malformed() }
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw Malformed() }
                            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(unit) else { throw Malformed() }
                        scalars.append(scalar)
                    default: throw Malformed()
                    }
                case 0x00..<0x20:
                    throw Malformed()
                default:
                    raw.append(byte)
                }
            }
            throw Malformed()
        }

        private mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for byte in bytes[index..<(index + 4)] {
                guard let digit = Self.hexValue(byte) else { throw Malformed() }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        private static func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }

        /// `{ "k": "v", … }`, keys kept as sent (duplicates too: the context check refuses them).
        mutating func stringObject() throws -> [(String, String)] {
            guard take(UInt8(ascii: "{")) else { throw Malformed() }
            var pairs: [(String, String)] = []
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return pairs }
            repeat {
                skipWhitespace()
                let key = try string()
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { throw Malformed() }
                skipWhitespace()
                pairs.append((key, try string()))
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { throw Malformed() }
            return pairs
        }

        /// Skips any JSON value (bounded nesting).
        mutating func skipValue() throws {
            skipWhitespace()
            guard index < bytes.count else { throw Malformed() }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                depth += 1
                guard depth <= 64 else { throw Malformed() }
                index += 1
                skipWhitespace()
                if !take(close) {
                    repeat {
                        skipWhitespace()
                        if isObject {
                            _ = try string()
                            skipWhitespace()
                            guard take(UInt8(ascii: ":")) else { throw Malformed() }
                        }
                        try skipValue()
                        skipWhitespace()
                    } while take(UInt8(ascii: ","))
                    guard take(close) else { throw Malformed() }
                }
                depth -= 1
            default:
                // Numbers, true, false, null: up to the next delimiter.
                let start = index
                while index < bytes.count,
                    ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0a, 0x0d].contains(
                        bytes[index])
                {
                    index += 1
                }
                guard index > start else { throw Malformed() }
            }
        }
    }
}
