import CofferServer
import Testing

/// Encryption-context keys read from the raw JSON body, exactly as sent.
@Suite struct RawJSONObjectTests {
    private func pairs(_ json: String, _ member: String = "EncryptionContext") throws -> [(String, String)]? {
        try RawJSONObject.stringPairs(member: member, in: Array(json.utf8))
    }

    @Test func canonicallyEquivalentKeysStayTwoKeys() throws {
        let result = try #require(try pairs(#"{"KeyId":"k","EncryptionContext":{"\#u{e9}":"1","e\#u{301}":"2"}}"#))
        #expect(result.count == 2)
        #expect(result.map { Array($0.0.utf8) } == [[0xc3, 0xa9], [0x65, 0xcc, 0x81]])
        // Foundation-style String keys would have merged them:
        #expect(Set(result.map(\.0)).count == 1)
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let result = try #require(try pairs(#"{"EncryptionContext":{"a\"b\\\/\u00e9\ud83d\udd11":"x\ny"}}"#))
        #expect(result.first?.0 == "a\"b\\/é🔑")
        #expect(result.first?.1 == "x\ny")
    }

    @Test func otherMembersOfAnyShapeAreSkipped() throws {
        let json = #"{"A":[1,{"b":[true,false,null]},"s"],"N":-1.5e3,"EncryptionContext":{"k":"v"},"Z":{}}"#
        #expect(try pairs(json)?.map(\.0) == ["k"])
        #expect(try pairs(#"{"EncryptionContext":null}"#) == nil)
        #expect(try pairs(#"{"Other":1}"#) == nil)
        #expect(try pairs(#"{}"#) == nil)
        #expect(try pairs(#"{"EncryptionContext":{}}"#)?.isEmpty == true)
    }

    @Test func malformedInputIsRefused() {
        for json in [
            #"{"EncryptionContext":{"k":1}}"#, #"{"EncryptionContext":{"k":"v"}"#,
            #"{"EncryptionContext":{"k":"\ud800"}}"#,
            #"{"EncryptionContext":{"k":"\q"}}"#, "[1]", #"{"EncryptionContext":{"k" "v"}}"#, "",
            String(repeating: "[", count: 100),
        ] {
            #expect(throws: RawJSONObject.Malformed.self, "\(json)") { try pairs(json) }
        }
    }
}
