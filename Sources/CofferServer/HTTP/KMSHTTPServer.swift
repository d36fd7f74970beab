import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The HTTP front of ``KMSEndpoint`` on Hummingbird 2: `POST /` in, the endpoint's reply out.
public enum KMSHTTPServer {
    /// An application serving `endpoint` on `host:port`; `onRunning` learns the bound port.
    public static func application(
        endpoint: KMSEndpoint, host: String, port: Int, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.post("/") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: KMSEndpoint.maximumBody)
            // swift-http-types carries Host as the request's authority, not as a header field; SigV4 signs it.
            var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
            if let authority = request.head.authority, !headers.contains(where: { $0.name.lowercased() == "host" }) {
                headers.insert(("Host", authority), at: 0)
            }
            let signed = SigV4Request(
                method: "POST", path: request.uri.path, query: request.uri.query ?? "", headers: headers,
                body: Array(body.readableBytesView))
            let reply = await endpoint.handle(signed)
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: reply.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "Coffer"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
