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

/// X-Amz-Date's `yyyyMMdd'T'HHmmss'Z'`, and each way of not being it.
@Suite struct SigV4DateTests {
    @Test func basicISO8601DatesAreRead() {
        #expect(SigV4Verifier.parseDate("20150830T123600Z") == 1_440_938_160)
        #expect(SigV4Verifier.parseDate("20241231T235959Z") == 1_735_689_599)
        #expect(SigV4Verifier.parseDate("20240229T000000Z") == 1_709_164_800)
    }

    @Test(arguments: [
        "", "20150830T123600", "20150830T123600ZZ", "20150830t123600Z", "20150830T123600z", "20150830 123600Z",
        "2015083T0123600Z", "20150830T1236000", "2015-08-30T12:36:00Z", "20151330T123600Z", "20150230T123600Z",
        "20230229T000000Z", "20150830T243600Z", "20150830T126000Z", "2015083\u{0660}T123600Z",
        "20150830T12360\u{00E9}Z",
        "20150830T123600\u{FF3A}", "2015083aT123600Z", "20150830T12360aZ", "201508\u{E9}T123600Z",
        "+0150830T123600Z", "20150830T-23600Z",
    ])
    func everythingElseIsRefused(text: String) {
        #expect(SigV4Verifier.parseDate(text) == nil)
    }
}
