import NIOCore
import ServiceLifecycle

/// An HSM process as a swift-service-lifecycle service (`coffer hsm`): it serves its one socket until
/// graceful shutdown (SIGTERM, SIGINT) or cancellation, and then wipes every key before the socket
/// closes (PROTOCOL §10): a stopped HSM holds nothing.
public struct HSMService: Service {
    private let server: HSMServer
    private let channel: any Channel

    /// The service of `server`, already bound to `channel`.
    public init(server: HSMServer, channel: any Channel) {
        self.server = server
        self.channel = channel
    }

    public func run() async throws {
        let server = self.server
        let channel = self.channel
        // Ends when the socket closes: by itself, or closed here when shutdown begins or the task is cancelled.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                server.wipe()
                channel.close(promise: nil)
            }
        } onCancel: {
            server.wipe()
            channel.close(promise: nil)
        }
        server.wipe()
    }
}
