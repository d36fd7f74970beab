import CofferCrypto
import Crypto
import Testing

@testable import CofferServer

/// The canonical request's shortcuts give what the full rules give: a path already canonical is used as it
/// is, and a header value already collapsed is appended as it is (issue 12). Each is checked against the
/// worked-out form on every string of up to four pieces from an alphabet of the cases that matter, and on
/// every ASCII byte and some non-ASCII characters in the middle of a path and of a value.
@Suite struct SigV4FastPathTests {
    /// Every concatenation of at most `length` pieces of `alphabet`.
    static func strings(_ alphabet: [String], upTo length: Int) -> [String] {
        var all = [""]
        var last = [""]
        for _ in 0..<length {
            last = last.flatMap { prefix in alphabet.map { prefix + $0 } }
            all += last
        }
        return all
    }

    /// Every ASCII character and a few others.
    static let singles = (0...0x7f).map { String(UnicodeScalar(UInt8($0))) } + ["é", "\u{301}", "\u{1F600}", "\r\n"]

    @Test func aPathTakenAsItIsIsItsOwnCanonicalURI() {
        let alphabet = ["/", ".", "..", "a", "~", "%2F", "%41", "%", " ", "é", "+", "*", ":", "@", "//"]
        let paths =
            Self.strings(alphabet, upTo: 4) + Self.singles.flatMap { ["/a\($0)b", "/\($0)", "/\($0)/", "\($0)"] }
        for path in paths where SigV4.canonicalURI(path) != SigV4.resolvedURI(path) {
            Issue.record(
                "path \(path.debugDescription): \(SigV4.canonicalURI(path)) against \(SigV4.resolvedURI(path))")
        }
        for canonical in ["/", "/a/b.c/", "/...", "/a-b_c~d.e", "/.a/a./"] {
            #expect(SigV4.isCanonicalPath(canonical), "path \(canonical.debugDescription)")
        }
        for refused in ["", "a", "//", "/a//", "/.", "/a/..", "/%41", "/a b", "/é", "/*", "/a:b", "/@", "/+"] {
            #expect(!SigV4.isCanonicalPath(refused), "path \(refused.debugDescription)")
        }
    }

    @Test func aValueAppendedAsItIsIsItsOwnCollapsedForm() {
        let alphabet = [" ", "\t", "\n", "\r", "\r\n", "a", "=", "\u{7f}", "\u{1}", "é", "\u{301}"]
        let values =
            Self.strings(alphabet, upTo: 4) + Self.singles.flatMap { ["a\($0)b", "a \($0) b", "\($0)", " \($0)"] }
        for value in values {
            var out: [UInt8] = []
            SigV4.appendCollapsed(value, to: &out)
            if out != Array(SigV4.collapse(value).utf8) { Issue.record("value \(value.debugDescription)") }
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
