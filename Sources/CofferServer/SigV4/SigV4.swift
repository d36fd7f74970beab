import CofferCrypto
import Crypto
import Foundation

/// A request as the HTTP layer hands it to SigV4 verification: everything as received.
public struct SigV4Request: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The path from the request line, without the query (percent-encoded or raw).
    public var path: String
    /// The query string without `?` (may be empty).
    public var query: String
    /// Header fields in the order received; a name may repeat.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Builds a request.
    public init(method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// All values of a header (name compared without regard to ASCII case, as HTTP field names are), in
    /// order.
    public func values(_ name: String) -> [String] {
        headers.compactMap { SigV4.equalsIgnoringASCIICase($0.name, name) ? $0.value : nil }
    }
}

/// AWS Signature Version 4 (the generic-service rules KMS follows): the canonical request, the string to
/// sign and the signing key, written from the published algorithm and checked against Amazon's test suite.
public enum SigV4 {
    /// The only algorithm.
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// Whether two names are equal without regard to ASCII case (HTTP field names are ASCII tokens; no
    /// Unicode case mapping, so "\u{212A}" is not "k"). No allocation: it runs for every header lookup.
    static func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { asciiLower($0) == asciiLower($1) }
    }

    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
    /// Read as UTF-8 bytes: a space or tab is one ASCII byte, so both ends of what is kept fall on scalar
    /// boundaries.
    static func trimmingSpacesAndTabs<Text: StringProtocol>(_ text: Text) -> Substring {
        let whole = Substring(text)
        let bytes = whole.utf8
        guard let first = bytes.firstIndex(where: { !isSpaceOrTab($0) }),
            let last = bytes.lastIndex(where: { !isSpaceOrTab($0) })
        else { return whole[whole.endIndex...] }
        return Substring(bytes[first..<bytes.index(after: last)])
    }

    private static func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// `Hex(SHA256(body))`.
    public static func payloadHash(_ body: [UInt8]) -> String { Hex.encode(SHA256.hash(data: body)) }

    /// The canonical request for `signedHeaders` (lower-case names, sorted).
    public static func canonicalRequest(
        _ request: SigV4Request, signedHeaders: [String], payloadHash: String,
        excludingQueryKey: String? = nil
    ) -> String {
        String(
            decoding: canonicalRequestBytes(
                request, signedHeaders: signedHeaders, payloadHash: payloadHash, excludingQueryKey: excludingQueryKey),
            as: UTF8.self)
    }

    /// The canonical request as the bytes that are hashed, written into one buffer: method, canonical URI,
    /// canonical query, a `name:value` line per signed header, an empty line, the signed header names and
    /// the payload hash, separated by newlines.
    static func canonicalRequestBytes(
        _ request: SigV4Request, signedHeaders: [String], payloadHash: String, excludingQueryKey: String?
    ) -> [UInt8] {
        let newline = UInt8(ascii: "\n")
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.headers.count * 64)
        out.append(contentsOf: request.method.utf8)
        out.append(newline)
        out.append(contentsOf: canonicalURI(request.path).utf8)
        out.append(newline)
        out.append(contentsOf: canonicalQuery(request.query, excluding: excludingQueryKey).utf8)
        out.append(newline)
        for name in signedHeaders {
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            var first = true
            for header in request.headers where equalsIgnoringASCIICase(header.name, name) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                appendCollapsed(header.value, to: &out)
            }
            out.append(newline)
        }
        out.append(newline)
        for (index, name) in signedHeaders.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
        }
        out.append(newline)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    /// `AWS4-HMAC-SHA256 \n date \n scope \n Hex(SHA256(canonical request))`.
    public static func stringToSign(canonicalRequest: String, date: String, scope: String) -> String {
        String(
            decoding: stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), date: date, scope: scope),
            as: UTF8.self)
    }

    /// The string to sign as bytes.
    static func stringToSignBytes(canonicalRequest: [UInt8], date: String, scope: String) -> [UInt8] {
        var out: [UInt8] = []
        // Three newlines and the 64 hex digits of the hash.
        out.reserveCapacity(algorithm.utf8.count + date.utf8.count + scope.utf8.count + 3 + 64)
        out.append(contentsOf: algorithm.utf8)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: date.utf8)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: scope.utf8)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: Hex.encode(SHA256.hash(data: canonicalRequest)).utf8)
        return out
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    public static func signingKey(secret: SecretBytes, day: String, region: String, service: String) -> SymmetricKey {
        signingKey(dateKey: dateKey(secret: secret, day: day), region: region, service: service)
    }

    /// `kDate = HMAC("AWS4" + secret, day)`: the day's key, which is all a verifier needs of the secret.
    public static func dateKey(secret: SecretBytes, day: String) -> SecretBytes {
        var seed = Array("AWS4".utf8)
        secret.withUnsafeBytes { seed.append(contentsOf: $0) }
        defer { seed.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(day.utf8), using: SymmetricKey(data: seed))
        return mac.withUnsafeBytes { SecretBytes(copying: $0) }
    }

    /// `kSigning` from the day's key `kDate`.
    public static func signingKey(dateKey: SecretBytes, region: String, service: String) -> SymmetricKey {
        var key = dateKey.withUnsafeBytes { SymmetricKey(data: $0) }
        for part in [region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    /// Hex `HMAC(kSigning, string to sign)`.
    public static func signature(stringToSign: String, key: SymmetricKey) -> String {
        SigningKeyCache.Signer(key: key).signature(Array(stringToSign.utf8))
    }

    // MARK: Canonical parts

    /// The path with dot segments resolved and empty segments collapsed, each segment URI-encoded.
    static func canonicalURI(_ path: String) -> String {
        isCanonicalPath(path) ? path : resolvedURI(path)
    }

    /// ``canonicalURI(_:)`` worked out: decoded, dot segments resolved, each segment encoded again.
    static func resolvedURI(_ path: String) -> String {
        let decoded = percentDecode(path)
        var segments: [String] = []
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(String(segment))
            }
        }
        let trailing =
            (decoded.hasSuffix("/") || decoded.hasSuffix("/.") || decoded.hasSuffix("/..")) && !segments.isEmpty
        return "/" + segments.map(uriEncode).joined(separator: "/") + (trailing ? "/" : "")
    }

    /// Parameters decoded, re-encoded strictly, sorted by key then value; repeated keys kept.
    static func canonicalQuery(_ query: String, excluding: String? = nil) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (
                uriEncode(percentDecode(String(parts[0]))),
                uriEncode(percentDecode(parts.count > 1 ? String(parts[1]) : ""))
            )
        }
        return pairs.filter { $0.0 != excluding }
            .sorted {
                $0.0 == $1.0
                    ? Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8))
                    : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Whether `path` is its own canonical URI: it starts with `/`, has only unreserved characters
    /// between its slashes, no empty segment and no `.` or `..` segment (KMS's `/` is).
    static func isCanonicalPath(_ path: String) -> Bool {
        var previous: UInt8 = 0
        var segment = 0  // bytes of the current segment, -1 once it is more than dots
        for (index, byte) in path.utf8.enumerated() {
            if byte == UInt8(ascii: "/") {
                if index > 0, previous == UInt8(ascii: "/") || segment >= 0 { return false }
                segment = 0
            } else {
                guard index > 0, isUnreserved(byte) else { return false }
                if segment >= 0 { segment = byte == UInt8(ascii: ".") && segment < 2 ? segment + 1 : -1 }
            }
            previous = byte
        }
        return previous != 0 && (previous == UInt8(ascii: "/") || segment < 0)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Appends ``collapse(_:)`` of `value`; a value already collapsed (printable ASCII, single spaces
    /// between words) is appended as it is, without building the split words.
    static func appendCollapsed(_ value: String, to out: inout [UInt8]) {
        var previous = UInt8(ascii: " ")
        var plain = true
        for byte in value.utf8 {
            guard byte > 0x20 && byte < 0x7f || byte == UInt8(ascii: " ") && previous != UInt8(ascii: " ") else {
                plain = false
                break
            }
            previous = byte
        }
        if plain && previous != UInt8(ascii: " ") || value.isEmpty {
            out.append(contentsOf: value.utf8)
        } else {
            out.append(contentsOf: collapse(value).utf8)
        }
    }

    /// A header value with whitespace runs (folded lines included) collapsed to one space and trimmed; the
    /// values of a repeated header are joined by commas in order (``canonicalRequestBytes``).
    static func collapse(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// RFC 3986 encoding of everything but the unreserved characters, upper-case hex.
    static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }

    /// `%XX` sequences decoded (invalid ones left as they are).
    static func percentDecode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count + 0, index + 2 <= bytes.count - 1,
                let value = Hex.decode(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self))
            {
                out.append(value[0])
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
