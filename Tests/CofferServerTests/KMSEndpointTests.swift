import CofferCrypto
import CofferHSMClient
import CofferKMS
import CofferServer
import CofferStore
import CofferTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The AWS JSON 1.1 protocol of the endpoint, over a real in-process HSM and SQLite store: routing by
/// X-Amz-Target, base64 blobs, AWS-shaped errors with x-amzn-ErrorType, a request id on every answer.
@Suite(.serialized) struct KMSEndpointTests {
    static let secret = "endpoint-secret"

    struct World {
        let endpoint: KMSEndpoint
        let clock: TestClock
        let stop: @Sendable () async -> Void
    }

    static func world(
        regions: KMSEndpoint.Regions = .all,
        reset: (@Sendable ([UInt8], RequestContext) async throws(KMSError) -> Void)? = nil,
        logger: Logger = Logger(label: "test")
    ) async throws -> World {
        let clock = TestClock()
        let hsm = try await InProcessHSM.start(clock: clock)
        let pool = HSMPool(
            addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state, clock: { clock.now })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-endpoint-\(UUID().uuidString).sqlite"
        ).path
        let store = try await SQLKeyStore.open(
            path: path, legacyScope: KeyScope(account: "111122223333", region: "us-west-2"))
        let kms = KMSService(store: store, hsm: pool, clock: { clock.seconds })
        let verifier = SigV4Verifier(service: "kms") {
            $0 == "AKIDTEST" ? .init(secret: SecretBytes(copying: Array(secret.utf8)), account: "111122223333") : nil
        }
        let endpoint = KMSEndpoint(
            kms: kms, verifier: verifier, regions: regions, reset: reset, logger: logger,
            clock: { clock.seconds })
        return World(endpoint: endpoint, clock: clock) {
            await pool.close()
            await store.close()
            hsm.stop()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// A request signed like an AWS SDK signs it.
    static func request(
        _ target: String?, _ body: String, at now: Int64, secret: String = secret, prefixed: Bool = true,
        signTarget: Bool = true
    ) -> SigV4Request {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(now)))
        var headers: [(name: String, value: String)] = [
            ("Host", "127.0.0.1:4599"), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Date", stamp),
        ]
        if let target { headers.append(("X-Amz-Target", prefixed ? "TrentService.\(target)" : target)) }
        var request = SigV4Request(method: "POST", path: "/", query: "", headers: headers, body: Array(body.utf8))
        let signed = headers.map { $0.name.lowercased() }.filter { signTarget || $0 != "x-amz-target" }.sorted()
        let scope = "\(stamp.prefix(8))/us-west-2/kms/aws4_request"
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: signed, payloadHash: SigV4.payloadHash(request.body))
        let key = SigV4.signingKey(
            secret: SecretBytes(copying: Array(secret.utf8)), day: String(stamp.prefix(8)), region: "us-west-2",
            service: "kms")
        let signature = SigV4.signature(
            stringToSign: SigV4.stringToSign(canonicalRequest: canonical, date: stamp, scope: scope), key: key)
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDTEST/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"
            ))
        return request
    }

    static func json(_ reply: KMSEndpoint.Reply) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
    }

    static func header(_ reply: KMSEndpoint.Reply, _ name: String) -> String? {
        reply.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    @Test func encryptAndDecryptRoundTripThroughTheProtocol() async throws {
        let world = try await Self.world()
        let created = await world.endpoint.handle(
            Self.request("CreateKey", #"{"Description":"x"}"#, at: world.clock.seconds))
        #expect(created.status == 200)
        #expect(Self.header(created, "x-amzn-RequestId")?.count == 36)
        let metadata = try #require(Self.json(created)["KeyMetadata"] as? [String: Any])
        let arn = try #require(metadata["Arn"] as? String)
        #expect(arn.hasPrefix("arn:aws:kms:us-west-2:111122223333:key/"))
        let plaintext = Data("hello".utf8).base64EncodedString()
        let encrypted = await world.endpoint.handle(
            Self.request(
                "Encrypt", #"{"KeyId":"\#(arn)","Plaintext":"\#(plaintext)","EncryptionContext":{"a":"b"}}"#,
                at: world.clock.seconds))
        #expect(encrypted.status == 200)
        let blob = try #require(Self.json(encrypted)["CiphertextBlob"] as? String)
        #expect(Self.json(encrypted)["KeyId"] as? String == arn)
        let decrypted = await world.endpoint.handle(
            Self.request(
                "Decrypt", #"{"CiphertextBlob":"\#(blob)","EncryptionContext":{"a":"b"}}"#, at: world.clock.seconds))
        #expect(Self.json(decrypted)["Plaintext"] as? String == plaintext)
        #expect(Self.json(decrypted)["KeyId"] as? String == arn)
        await world.stop()
    }

    @Test func errorsHaveAWSShapesAndNames() async throws {
        let world = try await Self.world()
        let now = world.clock.seconds
        func expect(_ reply: KMSEndpoint.Reply, _ name: String, _ status: Int = 400) {
            #expect(reply.status == status, "\(name)")
            #expect(Self.json(reply)["__type"] as? String == name)
            #expect(Self.header(reply, "x-amzn-ErrorType") == name)
            #expect(Self.json(reply)["message"] is String || name == "InvalidCiphertextException")
            #expect(Self.header(reply, "x-amzn-RequestId") != nil)
        }
        expect(await world.endpoint.handle(Self.request("Encrypt", "{not json", at: now)), "SerializationException")
        expect(await world.endpoint.handle(Self.request("NoSuchThing", "{}", at: now)), "UnknownOperationException")
        expect(await world.endpoint.handle(Self.request(nil, "{}", at: now)), "UnknownOperationException")
        expect(await world.endpoint.handle(Self.request("DescribeKey", "{}", at: now)), "ValidationException")
        expect(
            await world.endpoint.handle(Self.request("DescribeKey", #"{"KeyId":42}"#, at: now)),
            "SerializationException")
        expect(
            await world.endpoint.handle(Self.request("DescribeKey", #"{"KeyId":"alias/none"}"#, at: now)),
            "NotFoundException")
        expect(
            await world.endpoint.handle(Self.request("ListKeys", "{}", at: now, secret: "wrong")),
            "InvalidSignatureException")
        expect(await world.endpoint.handle(Self.request("ListKeys", "{}", at: now - 1000)), "InvalidSignatureException")
        var tampered = Self.request("ListKeys", #"{"Limit":5}"#, at: now)
        tampered.body = Array(#"{"Limit":6}"#.utf8)
        expect(await world.endpoint.handle(tampered), "InvalidSignatureException")
        var unsigned = Self.request("ListKeys", "{}", at: now)
        unsigned.headers.removeAll { $0.name == "Authorization" }
        expect(await world.endpoint.handle(unsigned), "MissingAuthenticationTokenException", 403)
        expect(
            await world.endpoint.handle(Self.request("CreateCustomKeyStore", "{}", at: now)),
            "UnsupportedOperationException"
        )
        expect(
            await world.endpoint.handle(Self.request("ListKeys", #"{"Limit":0}"#, at: now)), "ValidationException")
        expect(
            await world.endpoint.handle(Self.request("ListKeys", #"{"Limit":true}"#, at: now)),
            "SerializationException")
        expect(
            await world.endpoint.handle(Self.request(Self.resetTarget, "{}", at: now, prefixed: false)),
            "UnknownOperationException")
        await world.stop()
    }

    static let resetTarget = KMSEndpoint.resetTarget

    @Test func theOperationNameMustBeSigned() async throws {
        // Signed without X-Amz-Target, a captured {"KeyId": …} body could be replayed as any operation
        // that takes a KeyId (DescribeKey, DisableKey, ScheduleKeyDeletion); every AWS SDK signs it.
        let world = try await Self.world()
        let now = world.clock.seconds
        let unsigned = await world.endpoint.handle(Self.request("ListKeys", "{}", at: now, signTarget: false))
        #expect(unsigned.status == 400)
        #expect(Self.json(unsigned)["__type"] as? String == "IncompleteSignatureException")
        let signed = await world.endpoint.handle(Self.request("ListKeys", "{}", at: now))
        #expect(signed.status == 200)
        await world.stop()
    }

    @Test func aHostOfOneRegionRefusesRequestsSignedForAnother() async throws {
        let world = try await Self.world(regions: .only("eu-west-1"))
        let reply = await world.endpoint.handle(Self.request("ListKeys", "{}", at: world.clock.seconds))
        #expect(reply.status == 400)
        #expect(Self.json(reply)["__type"] as? String == "InvalidSignatureException")
        #expect(
            Self.json(reply)["message"] as? String == "Credential should be scoped to a valid region, not 'us-west-2'. "
        )
        await world.stop()
    }

    @Test func theDevResetCallIsSignedAndServedOnlyWhenAllowed() async throws {
        let calls = Mutex<[String]>([])
        let world = try await Self.world { body, _ in
            calls.withLock { $0.append(String(decoding: body, as: UTF8.self)) }
        }
        let now = world.clock.seconds
        let reply = await world.endpoint.handle(
            Self.request(Self.resetTarget, #"{"Reseed":true}"#, at: now, prefixed: false))
        #expect(reply.status == 200 && calls.withLock { $0 } == [#"{"Reseed":true}"#])
        let unsigned = await world.endpoint.handle(
            Self.request(Self.resetTarget, "{}", at: now, secret: "wrong", prefixed: false))
        #expect(Self.json(unsigned)["__type"] as? String == "InvalidSignatureException")
        #expect(calls.withLock { $0 }.count == 1)
        await world.stop()
    }

    /// The operator's log: a request served is one `served` line; one refused for the caller's mistake is a
    /// `refused` line; one that failed in a dependency is a `failed` warning with the dependency's cause,
    /// which the caller is not told. Each line names the request id the caller got.
    @Test func eachOutcomeIsOneLogLineAndACauseStaysInTheLog() async throws {
        let seen = LogRecord()
        var logger = Logger(label: "test") { _ in RecordingLogHandler(seen) }
        logger.logLevel = .info
        let world = try await Self.world(
            reset: { body, _ throws(KMSError) in
                guard body == Array("{}".utf8) else {
                    throw KMSError(.dependencyTimeout, "The store did not answer.", cause: "disk I/O error at page 7")
                }
            }, logger: logger)
        let now = world.clock.seconds
        let served = await world.endpoint.handle(Self.request(Self.resetTarget, "{}", at: now, prefixed: false))
        let failed = await world.endpoint.handle(
            Self.request(Self.resetTarget, #"{"Reseed":true}"#, at: now, prefixed: false))
        let refused = await world.endpoint.handle(Self.request("NoSuchOperation", "{}", at: now))
        await world.stop()

        #expect(served.status == 200 && failed.status == 500 && refused.status == 400)
        #expect(!String(decoding: failed.body, as: UTF8.self).contains("disk"))
        let lines = seen.lines.withLock { $0 }
        #expect(lines.map(\.message) == ["served", "failed", "refused"])
        let ids = [served, failed, refused].map { Self.header($0, "x-amzn-RequestId") }
        for (line, id) in zip(lines, ids) {
            #expect(id != nil && line.metadata["requestID"] == id.map { .string($0) })
        }
        #expect(lines[1].metadata["error"] == "DependencyTimeoutException")
        #expect(lines[1].metadata["cause"] == "disk I/O error at page 7")
        #expect(lines[2].metadata["error"] == "UnknownOperationException")
        #expect(lines[2].metadata["cause"] == nil && lines[0].metadata["caller"] == "AKIDTEST")
    }
}
