import Testing

@testable import CofferServer

/// How SigV4 finds and trims header values: HTTP's rules (ASCII case, spaces and tabs), not Unicode's.
@Suite struct SigV4HeaderTests {
    @Test func headerNamesMatchWithoutRegardToASCIICaseOnly() {
        let request = SigV4Request(
            method: "POST", path: "/", query: "",
            headers: [("X-Amz-Date", "a"), ("x-amz-date", "b"), ("\u{212A}ey", "kelvin"), ("Key", "k")], body: [])
        #expect(request.values("x-amz-date") == ["a", "b"])
        #expect(request.values("X-AMZ-DATE") == ["a", "b"])
        // U+212A KELVIN SIGN lower-cases to "k" in Unicode; it is not an HTTP token character.
        #expect(request.values("key") == ["k"])
        #expect(request.values("x-amz-dat").isEmpty)
        #expect(!SigV4.equalsIgnoringASCIICase("a", "ab"))
        #expect(SigV4.equalsIgnoringASCIICase("", ""))
    }

    @Test func valuesAreTrimmedOfSpacesAndTabsOnly() {
        #expect(SigV4.trimmingSpacesAndTabs(" \t AWS4 x \t") == "AWS4 x")
        #expect(SigV4.trimmingSpacesAndTabs("   ") == "")
        #expect(SigV4.trimmingSpacesAndTabs("") == "")
        #expect(SigV4.trimmingSpacesAndTabs("\u{00A0}x\u{00A0}") == "\u{00A0}x\u{00A0}")
    }
}
