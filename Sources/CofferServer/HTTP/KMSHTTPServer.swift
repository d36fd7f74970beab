import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The HTTP front of ``KMSEndpoint`` on Hummingbird 2: `POST /` in, the endpoint's reply out; and the
/// probes `GET /health`, `GET /ready` and `GET /metrics`.
public enum KMSHTTPServer {
    /// The service serving `endpoint` on `host:port`, over TLS when `tls` is given; `onRunning` learns the
    /// bound port. Requests run on the event loops that read and answer them (``EventLoopTaskExecutor``).
    public static func application(
        endpoint: KMSEndpoint, host: String, port: Int, tls: TLSConfiguration? = nil, limits: HTTPLimits = HTTPLimits(),
        probes: Probes = Probes(), logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some Service {
        let router = Router(context: KMSRequestContext.self)
        // Load balancers and Prometheus: unsigned GETs that reveal no key, caller or request content.
        router.get("/health") { _, _ -> Response in Self.text(.ok, "ok\n") }
        router.get("/ready") { _, _ -> Response in
            let why = await probes.notReady()
            return why.map { Self.text(.serviceUnavailable, "not ready: \($0)\n") } ?? Self.text(.ok, "ready\n")
        }
        router.get("/metrics") { _, _ -> Response in
            var fields = HTTPFields()
            fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: probes.metrics())))
        }
        // Each loop's executor: a request's task keeps to its connection's loop (a task resumed by the HSM
        // connection's loop returns to it), so requests spread over the loops as connections do.
        let executors = Dictionary(
            uniqueKeysWithValues: MultiThreadedEventLoopGroup.singleton.makeIterator().map {
                (ObjectIdentifier($0), EventLoopTaskExecutor(group: $0))
            })
        router.post("/") { request, context -> Response in
            let executor =
                executors[ObjectIdentifier(context.eventLoop)] ?? EventLoopTaskExecutor(group: context.eventLoop)
            return try await withTaskExecutorPreference(executor) {
                try await Self.serve(request, context: context, endpoint: endpoint)
            }
        }
        let places = ConnectionPlaces(maximumConnections: limits.maximumConnections)
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [
            RequestDeadlineHandler(limits: limits, places: places)
        ])
        let server: HTTPServerBuilder =
            try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1)
        let application = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "Coffer"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger.deferringMetadata)
        return EventLoopPreferring(
            wrapped: application, executor: EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton))
    }
}

extension KMSHTTPServer {
    /// `POST /`: the request as SigV4 sees it, handled by `endpoint`, and its reply.
    static func serve(_ request: Request, context: KMSRequestContext, endpoint: KMSEndpoint) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: KMSEndpoint.maximumBody)
        // swift-http-types carries Host as the request's authority, not as a header field; SigV4 signs it.
        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        if let authority = request.head.authority,
            !headers.contains(where: { SigV4.equalsIgnoringASCIICase($0.name, "host") })
        {
            headers.insert(("Host", authority), at: 0)
        }
        let signed = SigV4Request(
            method: "POST", path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Array(body.readableBytesView))
        // The peer's address is `aws:SourceIp` and the audit record's source address.
        let reply = await endpoint.handle(signed, sourceAddress: context.remoteAddress?.ipAddress)
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

extension KMSHTTPServer {
    /// What the host's probe routes answer: `/ready` (nil when ready, else why not) and `/metrics` (the
    /// Prometheus text exposition). `/health` answers 200 while the process serves.
    public struct Probes: Sendable {
        let notReady: @Sendable () async -> String?
        let metrics: @Sendable () -> [UInt8]

        /// Probes; by default always ready, with no metrics.
        public init(
            notReady: @escaping @Sendable () async -> String? = { nil },
            metrics: @escaping @Sendable () -> [UInt8] = { [] }
        ) {
            self.notReady = notReady
            self.metrics = metrics
        }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Hummingbird's request context with the connection's remote address.
struct KMSRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's address.
    let remoteAddress: SocketAddress?
    /// The connection's event loop.
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        eventLoop = source.channel.eventLoop
    }
}

extension KMSHTTPServer {
    /// A server TLS configuration from PEM files: the certificate chain and its private key; TLS 1.2 at
    /// least.
    public static func tlsConfiguration(certificateChain: String, privateKey: String) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(key))
        // TLS 1.0 and 1.1 are deprecated (RFC 8996); AWS's endpoints require 1.2 as well.
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
