import CofferCrypto
import CofferHSM
import CofferHost
import CofferServer
import CofferStore
import CofferTestSupport
import CofferWire
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The host in process, as `coffer host` runs it: a real HSM on loopback, a SQLite store, the HTTP
/// endpoint on an ephemeral port; signed calls served, probes answered, and a graceful shutdown that
/// ends `run()` with every HSM connection closed.
@Suite struct CofferHostTests {
    static let accessKey = "AKIDHOSTTEST"
    static let secret = "host-test-secret"
    static let account = "111122223333"

    /// A running host: its task, its port, and what it runs over.
    struct Running {
        let host: CofferHost
        let task: Task<Void, any Error>
        let port: Int
        let hsm: InProcessHSM
    }

    static func start(logger: Logger = Logger(label: "test")) async throws -> Running {
        let clock = TestClock()
        // The host reads the wall clock; the HSM must agree with it within the clock skew.
        clock.advance(WireTime.now.secondsSinceEpoch - clock.seconds)
        let hsm = try await InProcessHSM.start(clock: clock)
        let store = try await SQLKeyStore.openInMemory()
        let configuration = HostConfiguration(
            host: "127.0.0.1", port: 0, hsms: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, state: hsm.state,
            credentials: [
                accessKey: SigV4Verifier.Credentials(secret: SecretBytes(copying: Array(secret.utf8)), account: account)
            ],
            upkeepInterval: 1)
        let host = CofferHost(configuration: configuration, store: store, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            try await host.run(handlingSignals: false) { bound, _ in continuation.yield(bound) }
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw FixtureError()
        }
        return Running(host: host, task: task, port: port, hsm: hsm)
    }

    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(
            for: URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// A SigV4-signed KMS call, signed as an AWS SDK signs it.
    static func call(_ port: Int, _ operation: String, _ body: String) async throws -> (Int, String) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: Date())
        let headers = [
            ("Host", "127.0.0.1:\(port)"), ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "TrentService.\(operation)"), ("X-Amz-Date", stamp),
        ]
        let unsigned = SigV4Request(method: "POST", path: "/", query: "", headers: headers, body: Array(body.utf8))
        let signedHeaders = ["content-type", "host", "x-amz-date", "x-amz-target"]
        let scope = "\(stamp.prefix(8))/us-east-1/kms/aws4_request"
        let canonical = SigV4.canonicalRequest(
            unsigned, signedHeaders: signedHeaders, payloadHash: SigV4.payloadHash(unsigned.body))
        let key = SigV4.signingKey(
            secret: SecretBytes(copying: Array(secret.utf8)), day: String(stamp.prefix(8)), region: "us-east-1",
            service: "kms")
        let signature = SigV4.signature(
            stringToSign: SigV4.stringToSign(canonicalRequest: canonical, date: stamp, scope: scope), key: key)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/")!)
        request.httpMethod = "POST"
        for (name, value) in headers where name != "Host" { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue(
            "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), "
                + "Signature=\(signature)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func aHostServesCallsAndProbesAndStopsGracefully() async throws {
        let running = try await Self.start()
        #expect(try await Self.get(running.port, "/health") == (200, "ok\n"))
        #expect(try await Self.get(running.port, "/ready") == (200, "ready\n"))
        let (status, body) = try await Self.call(running.port, "CreateKey", #"{"Description":"in process"}"#)
        #expect(status == 200, "\(body)")
        #expect(body.contains(#""Description":"in process""#))
        let (listed, keys) = try await Self.call(running.port, "ListKeys", "{}")
        #expect(listed == 200 && keys.contains("KeyId"))
        let (_, metrics) = try await Self.get(running.port, "/metrics")
        #expect(metrics.contains(#"coffer_requests_total{operation="CreateKey",code="ok"}"#))
        // Graceful shutdown: run() returns, the endpoint is gone and every HSM session connection is closed.
        await running.host.shutdown()
        try await running.task.value
        await #expect(throws: (any Error).self) { _ = try await Self.get(running.port, "/health") }
        for _ in 0..<100 where running.hsm.server.connectionCounts.all != 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(running.hsm.server.connectionCounts.all == 0)
        running.hsm.stop()
    }

    /// Hummingbird sets a request id on its logger for every request: below the log level that metadata never
    /// reaches the host's log handler, which would format it on every set (``DeferredMetadataLogHandler``).
    @Test func requestsBelowTheLogLevelSetNoMetadataOnTheLogHandler() async throws {
        let record = LogRecord()
        let running = try await Self.start(logger: Logger(label: "test") { _ in RecordingLogHandler(record) })
        for _ in 0..<10 {
            let (status, body) = try await Self.call(running.port, "ListKeys", "{}")
            #expect(status == 200, "\(body)")
        }
        await running.host.shutdown()
        try await running.task.value
        running.hsm.stop()
        #expect(record.metadataChanges.withLock { $0 } == 0)
    }

    @Test func aShutdownBeforeTheHostRunsStopsItAsSoonAsItStarts() async throws {
        let clock = TestClock()
        clock.advance(WireTime.now.secondsSinceEpoch - clock.seconds)
        let hsm = try await InProcessHSM.start(clock: clock)
        let host = CofferHost(
            configuration: HostConfiguration(
                host: "127.0.0.1", port: 0, hsms: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey,
                state: hsm.state),
            store: try await SQLKeyStore.openInMemory(), logger: Logger(label: "test"))
        await host.shutdown()
        try await host.run(handlingSignals: false)
        hsm.stop()
    }
}
