import Foundation
import Hummingbird
import Logging
import NIOCore

/// `bench-ceiling`: the ceiling that `bench/run` measures Coffer against, a bare Hummingbird 2 `POST /`
/// route from the same package that reads the request body and answers a fixed 100-byte JSON body, with
/// no authentication and no work. Prints `listening on 127.0.0.1:PORT` once it serves; `--port 0` (the
/// default) takes a free port. Stops on SIGINT or SIGTERM.
@main
struct BenchCeiling {
    /// A 100-byte JSON body shaped like a small KMS answer.
    static let body: ByteBuffer = {
        let prefix = #"{"KeyId":"arn:aws:kms:us-east-1:000000000000:key/ceiling","Plaintext":""#
        let suffix = #""}"#
        let fill = String(repeating: "A", count: 100 - prefix.utf8.count - suffix.utf8.count)
        return ByteBuffer(string: prefix + fill + suffix)
    }()

    static func main() async throws {
        let arguments = CommandLine.arguments
        var requested = 0
        if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count,
            let given = Int(arguments[index + 1])
        {
            requested = given
        }
        let port = requested
        var logger = Logger(label: "bench-ceiling")
        logger.logLevel = .warning
        let router = Router()
        router.post("/") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            var fields = HTTPFields()
            fields[.contentType] = "application/x-amz-json-1.1"
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: body))
        }
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(
                    Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))
            }, logger: logger)
        try await application.runService()
    }
}
