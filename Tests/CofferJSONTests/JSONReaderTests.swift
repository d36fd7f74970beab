import CofferJSON
import Foundation
import Testing

/// The strict JSON reader: values exactly as sent, every malformed body refused, bounded nesting, and
/// no input that traps (byte-by-byte truncations of valid bodies included).
@Suite struct JSONReaderTests {
    private func object(_ json: String) throws -> JSONObject {
        guard case .object(let object) = try JSONReader.read(Array(json.utf8)) else {
            Issue.record("not an object: \(json)")
            return JSONObject()
        }
        return object
    }

    @Test func numbersBooleansAndNullKeepTheirKinds() throws {
        let value = try object(#"{"a":0,"b":1,"c":true,"d":false,"e":null,"f":-1.5e3,"g":"1"}"#)
        #expect(value["a"] == .number("0") && value["b"] == .number("1"))
        #expect(value["c"] == .bool(true) && value["d"] == .bool(false))
        #expect(value["e"] == nil, "a null member reads as absent")
        #expect(value["f"] == .number("-1.5e3") && value["g"] == .string("1"))
    }

    @Test func canonicallyEquivalentNamesStayTwoNames() throws {
        let value = try object(#"{"EncryptionContext":{"\#u{e9}":"1","e\#u{301}":"2"}}"#)
        guard case .object(let context)? = value["EncryptionContext"] else {
            Issue.record("no context")
            return
        }
        #expect(context.members.map { Array($0.name.utf8) } == [[0xc3, 0xa9], [0x65, 0xcc, 0x81]])
        #expect(context["\u{e9}"] == .string("1") && context["e\u{301}"] == .string("2"))
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let value = try object(#"{"k":"a\"b\\\/\u00e9\ud83d\udd11\n"}"#)
        #expect(value["k"] == .string("a\"b\\/é🔑\n"))
    }

    @Test func malformedBodiesAreRefused() {
        let bad = [
            "", " ", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, "[1,]", "01", "1.", ".5", "-", "1e", "+1", "tru",
            "nul", #"{"a":"\ud800"}"#, #"{"a":"\q"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1}x"#, #"{a:1}"#, "'a'",
            #"{"a":"\u12"}"#, "[1 2]",
        ]
        for json in bad {
            #expect(throws: JSONError.self, "\(json)") { try JSONReader.read(Array(json.utf8)) }
        }
        #expect(throws: JSONError.self) { try JSONReader.read([0x22, 0xff, 0x22]) }
        // Invalid UTF-8 before and after an escape (the string is then built scalar by scalar).
        #expect(throws: JSONError.self) { try JSONReader.read([0x22, 0x5c, 0x6e, 0xff, 0x22]) }
        #expect(throws: JSONError.self) { try JSONReader.read([0x22, 0xc3, 0x5c, 0x6e, 0x22]) }
    }

    @Test func duplicateMembersAndDeepNestingAreRefused() {
        #expect(throws: JSONError.self) { try JSONReader.read(Array(#"{"a":1,"a":2}"#.utf8)) }
        let limit = JSONReader.maximumDepth
        let deep = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try JSONReader.read(Array(deep.utf8)) }
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(throws: JSONError.self) { try JSONReader.read(Array(tooDeep.utf8)) }
        #expect(throws: JSONError.self) { try JSONReader.read(Array(String(repeating: "[", count: 100_000).utf8)) }
    }

    @Test func everyTruncationOfAValidBodyIsRefusedWithoutTrapping() throws {
        let body = Array(
            #"{"KeyId":"alias/x","Plaintext":"AQID","EncryptionContext":{"a":"\u00e9"},"Limit":10,"DryRun":true}"#.utf8)
        _ = try JSONReader.read(body)
        for length in 0..<body.count {
            #expect(throws: JSONError.self) { try JSONReader.read(Array(body.prefix(length))) }
        }
    }

    @Test func theWriterEscapesAndReadsBack() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.name("s")
        writer.string("a\"b\\\n\u{1}é")
        writer.name("n")
        writer.integer(-5)
        writer.name("t")
        writer.number(1_800_000_000)
        writer.name("f")
        writer.number(1.5)
        writer.name("l")
        writer.beginArray()
        writer.bool(true)
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        writer.endObject()
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == #"{"s":"a\"b\\\n\u0001é","n":-5,"t":1800000000,"f":1.5,"l":[true,{}]}"#)
        let value = try object(String(decoding: writer.bytes, as: UTF8.self))
        #expect(value["s"] == .string("a\"b\\\n\u{1}é"))
    }

    /// Strings copied in one piece (nothing to escape) and escaped byte by byte, one character at a time
    /// at every position, each exactly as expected and read back as written.
    @Test func everyStringIsCopiedOrEscapedExactly() throws {
        let escapes: [(String, String)] = [
            ("\"", #"\""#), ("\\", #"\\"#), ("\n", #"\n"#), ("\r", #"\r"#), ("\t", #"\t"#), ("\u{0}", #"\u0000"#),
            ("\u{1f}", #"\u001f"#), (" ", " "), ("\u{7f}", "\u{7f}"), ("é", "é"), ("/", "/"),
            ("\u{1F600}", "\u{1F600}"),
        ]
        for (character, written) in escapes {
            for text in [character, "a" + character, character + "b", "ab" + character + "cd", ""] {
                var writer = JSONWriter()
                writer.string(text)
                let expected = "\"" + text.replacingOccurrences(of: character, with: written) + "\""
                #expect(String(decoding: writer.bytes, as: UTF8.self) == expected, "\(text.debugDescription)")
                var wrapper = JSONWriter()
                wrapper.beginObject()
                wrapper.name("s")
                wrapper.string(text)
                wrapper.endObject()
                #expect(try object(String(decoding: wrapper.bytes, as: UTF8.self))["s"] == .string(text))
            }
        }
    }
}
