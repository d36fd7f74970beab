import CofferCrypto
import Crypto
import Testing

@testable import CofferServer

/// The canonical request's shortcuts give what the full rules give: a path already canonical is used as it
/// is, and a header value already collapsed is appended as it is (issue 12). Each is checked against the
/// worked-out form on edge cases and on many generated inputs.
@Suite struct SigV4FastPathTests {
    /// Paths from a small alphabet that makes slashes, dot segments, escapes and reserved bytes common.
    static func generatedPaths() -> [String] {
        var generator = SystemRandomNumberGenerator()
        let alphabet = ["/", "/", ".", "..", "a", "Z", "9", "-", "~", "_", "%2F", "%41", "%", " ", "é", "+", "//"]
        return (0..<5_000).map { _ in
            (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                .joined()
        }
    }

    @Test func aPathTakenAsItIsIsItsOwnCanonicalURI() {
        let edges = [
            "/", "", "a", "//", "/a", "/a/", "/a//b", "/.", "/..", "/./a", "/a/.", "/a/..", "/...", "/a.b/", "/.a",
            "/a./", "/%41", "/a b", "/~_-.", "/é", "/a/../b",
        ]
        var shortcuts = 0
        for path in edges + Self.generatedPaths() {
            #expect(SigV4.canonicalURI(path) == SigV4.resolvedURI(path), "path \(path.debugDescription)")
            if SigV4.isCanonicalPath(path) { shortcuts += 1 }
        }
        #expect(SigV4.isCanonicalPath("/"))
        #expect(SigV4.isCanonicalPath("/a/b.c/"))
        #expect(SigV4.isCanonicalPath("/..."))
        for refused in ["", "a", "//", "/a//", "/.", "/a/..", "/%41", "/a b", "/é"] {
            #expect(!SigV4.isCanonicalPath(refused), "path \(refused.debugDescription)")
        }
        #expect(shortcuts > 100)  // the generated paths reach the shortcut too
    }

    /// Values from an alphabet of spaces, tabs, line breaks, control and non-ASCII characters.
    static func generatedValues() -> [String] {
        var generator = SystemRandomNumberGenerator()
        let alphabet = [" ", " ", "\t", "\n", "\r", "\r\n", "a", "Z", "=", ";", "\u{7f}", "\u{1}", "é", "\u{301}"]
        return (0..<5_000).map { _ in
            (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                .joined()
        }
    }

    @Test func aValueAppendedAsItIsIsItsOwnCollapsedForm() {
        let edges = [
            "", " ", "a", " a", "a ", "a  b", "a b", "a\tb", "a\nb", "a\r\nb", "a \u{301}b", "é", "\u{7f}", "x=y; z",
        ]
        for value in edges + Self.generatedValues() {
            var out: [UInt8] = []
            SigV4.appendCollapsed(value, to: &out)
            #expect(out == Array(SigV4.collapse(value).utf8), "value \(value.debugDescription)")
        }
    }

    @Test func theCanonicalRequestKeepsTheEmptyLineAfterTheHeaders() {
        let request = SigV4Request(
            method: "POST", path: "/", query: "b=2&a=1",
            headers: [("Host", "h"), ("X-Amz-Date", " d  1 "), ("x-amz-date", "d2")], body: [])
        let canonical = SigV4.canonicalRequest(request, signedHeaders: ["host", "x-amz-date"], payloadHash: "e3b0")
        #expect(canonical == "POST\n/\na=1&b=2\nhost:h\nx-amz-date:d 1,d2\n\nhost;x-amz-date\ne3b0")
    }

    @Test func hexOfEveryFormIsTheSame() {
        for count in 0...40 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255) }
            let reference = bytes.map { byte in
                let text = String(byte, radix: 16)
                return text.count == 1 ? "0" + text : text
            }.joined()
            #expect(Hex.encode(bytes) == reference)
            #expect(Hex.encode(bytes[...]) == reference)
            #expect(Hex.encode(AnySequence(bytes)) == reference)
            #expect(bytes.withUnsafeBytes { Hex.encode($0) } == reference)
            #expect(Hex.decode(reference) == bytes)
        }
        let digest = SHA256.hash(data: Array("abc".utf8))
        #expect(Hex.encode(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
