import CofferCrypto
import CofferServer
import Foundation
import Testing

/// The verifier's refusals, each with the exception name AWS KMS answers with, and the query-string form.
@Suite struct SigV4VerifierTests {
    static let secret = "kms-test-secret"
    static let now: Int64 = 1_800_000_000
    static let verifier = SigV4Verifier(service: "kms") { id in
        id == "AKIDCOFFER" ? .init(secret: SecretBytes(copying: Array(secret.utf8)), account: "111122223333") : nil
    }

    static func amzDate(_ seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Signs a KMS-style POST the way an AWS SDK does (header form).
    static func signed(
        body: String = #"{"KeyId":"alias/test"}"#, date: Int64 = now, secret: String = secret,
        accessKey: String = "AKIDCOFFER",
        service: String = "kms", region: String = "eu-west-1"
    ) -> SigV4Request {
        let stamp = amzDate(date)
        var request = SigV4Request(
            method: "POST", path: "/", query: "",
            headers: [
                ("Host", "127.0.0.1:4599"), ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "TrentService.Encrypt"), ("X-Amz-Date", stamp),
            ],
            body: Array(body.utf8))
        let signedHeaders = ["content-type", "host", "x-amz-date", "x-amz-target"]
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: signedHeaders, payloadHash: SigV4.payloadHash(request.body))
        let key = SigV4.signingKey(
            secret: SecretBytes(copying: Array(secret.utf8)), day: String(stamp.prefix(8)), region: region,
            service: service)
        let signature = SigV4.signature(
            stringToSign: SigV4.stringToSign(canonicalRequest: canonical, date: stamp, scope: scope), key: key)
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
            ))
        return request
    }

    private func refusal(_ request: SigV4Request, now: Int64 = now) -> String? {
        do {
            _ = try Self.verifier.verify(request, now: now)
            return nil
        } catch {
            return error.awsErrorName
        }
    }

    @Test func aCorrectlySignedRequestVerifiesWithItsRegion() throws {
        let identity = try Self.verifier.verify(Self.signed(), now: Self.now)
        #expect(identity.accessKeyID == "AKIDCOFFER")
        #expect(identity.region == "eu-west-1")
    }

    @Test func eachFailureHasTheAWSExceptionName() {
        #expect(refusal(Self.signed(secret: "wrong")) == "InvalidSignatureException")
        #expect(refusal(Self.signed(accessKey: "AKIDUNKNOWN")) == "UnrecognizedClientException")
        #expect(refusal(Self.signed(), now: Self.now + 901) == "InvalidSignatureException")  // stale date
        #expect(refusal(Self.signed(), now: Self.now - 901) == "InvalidSignatureException")  // date in the future
        #expect(refusal(Self.signed(), now: Self.now + 900) == nil)
        #expect(refusal(Self.signed(service: "s3")) == "InvalidSignatureException")
        var unsigned = Self.signed()
        unsigned.headers.removeAll { $0.name == "Authorization" }
        #expect(refusal(unsigned) == "MissingAuthenticationTokenException")
        var noDate = Self.signed()
        noDate.headers.removeAll { $0.name == "X-Amz-Date" }
        #expect(refusal(noDate) == "IncompleteSignatureException")
        var partial = Self.signed()
        partial.headers[partial.headers.count - 1].value =
            "AWS4-HMAC-SHA256 Credential=AKIDCOFFER/20270115/eu-west-1/kms/aws4_request"
        #expect(refusal(partial) == "IncompleteSignatureException")
        var tamperedBody = Self.signed()
        tamperedBody.body = Array(#"{"KeyId":"alias/other"}"#.utf8)
        #expect(refusal(tamperedBody) == "InvalidSignatureException")
        var declared = Self.signed()
        declared.headers.append(("X-Amz-Content-Sha256", String(repeating: "0", count: 64)))
        #expect(refusal(declared) == "InvalidSignatureException")
        var token = Self.signed()
        token.headers.append(("X-Amz-Security-Token", "not-ours"))
        #expect(refusal(token) == "UnrecognizedClientException")
    }

    /// The Authorization header's parameters as SDKs and people write them: any order, spaces and tabs around
    /// each part, empty parts, unknown names, a name given twice (the later wins); a part with no name, no
    /// value or no `=` is skipped, so a header left with a parameter missing is incomplete.
    @Test func authorizationParametersAreReadInAnyOrderAndSpacing() {
        let signed = Self.signed()
        let header = signed.headers[signed.headers.count - 1].value
        let parts = header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",").map {
            String($0.drop { $0 == " " })
        }
        let (credential, headers, signature) = (parts[0], parts[1], parts[2])
        func with(_ value: String) -> SigV4Request {
            var request = signed
            request.headers[request.headers.count - 1].value = value
            return request
        }
        for accepted in [
            "AWS4-HMAC-SHA256 \(signature),\(headers),\(credential)",
            "\t AWS4-HMAC-SHA256 \t\(credential) ,\t\(headers)\t, \(signature) \t",
            "AWS4-HMAC-SHA256 ,,\(credential),, Other=x,\(headers),=y,z=,\(signature),",
            "AWS4-HMAC-SHA256 Signature=00,\(credential), \(headers), \(signature)",
            "AWS4-HMAC-SHA256 \(credential), SignedHeaders=Content-Type;HOST;;x-amz-date;X-Amz-Target;, \(signature)",
        ] {
            #expect(refusal(with(accepted)) == nil, "\(accepted)")
        }
        for (refused, name) in [
            ("AWS4-HMAC-SHA256 \(credential), \(headers)", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), Signature=", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), Signature", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), =\(signature)", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential); \(headers); \(signature)", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), signature=00", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), \u{301}\(signature)", "IncompleteSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), \(signature), Signature=00", "InvalidSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), \(headers), \(signature)=", "InvalidSignatureException"),
            ("AWS4-HMAC-SHA256 \(credential), SignedHeaders=host, \(signature)", "InvalidSignatureException"),
        ] {
            #expect(refusal(with(refused)) == name, "\(refused)")
        }
    }

    @Test func theQueryStringFormVerifiesAndExpires() throws {
        let stamp = Self.amzDate(Self.now)
        let scope = "\(stamp.prefix(8))/us-east-1/kms/aws4_request"
        let credential = "AKIDCOFFER/\(scope)".replacingOccurrences(of: "/", with: "%2F")
        func presigned(expires: Int) -> SigV4Request {
            let query =
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(credential)&X-Amz-Date=\(stamp)&X-Amz-Expires=\(expires)&X-Amz-SignedHeaders=host"
            var request = SigV4Request(
                method: "GET", path: "/", query: query, headers: [("Host", "kms.local")], body: [])
            let canonical = SigV4.canonicalRequest(request, signedHeaders: ["host"], payloadHash: SigV4.payloadHash([]))
            let key = SigV4.signingKey(
                secret: SecretBytes(copying: Array(Self.secret.utf8)), day: String(stamp.prefix(8)),
                region: "us-east-1", service: "kms")
            let signature = SigV4.signature(
                stringToSign: SigV4.stringToSign(canonicalRequest: canonical, date: stamp, scope: scope), key: key)
            request.query += "&X-Amz-Signature=\(signature)"
            return request
        }
        #expect(try Self.verifier.verify(presigned(expires: 300), now: Self.now + 300).region == "us-east-1")
        #expect(refusal(presigned(expires: 300), now: Self.now + 301) == "InvalidSignatureException")
        var tampered = presigned(expires: 300)
        tampered.query = tampered.query.replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=600")
        #expect(refusal(tampered) == "InvalidSignatureException")
    }
}
