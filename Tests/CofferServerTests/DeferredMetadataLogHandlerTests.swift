import Logging
import Synchronization
import Testing

@testable import CofferServer

/// The server's logger keeps metadata as set and formats it only for a line it writes.
@Suite struct DeferredMetadataLogHandlerTests {
    /// What the writing handler saw: each line with its metadata, and how often its metadata was set.
    final class Seen: Sendable {
        let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
        let metadataChanges = Mutex(0)
    }

    /// A writing handler that records instead of writing (as StreamLogHandler, it would format its metadata
    /// on every change).
    struct Recording: LogHandler {
        let seen: Seen
        var logLevel: Logger.Level = .notice
        var metadataProvider: Logger.MetadataProvider?
        var metadata: Logger.Metadata = [:] {
            didSet { seen.metadataChanges.withLock { $0 += 1 } }
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { _, explicit in explicit }
            seen.lines.withLock { $0.append((event.message.description, all)) }
        }
    }

    @Test func metadataReachesTheOutputOnlyForLinesWritten() {
        let seen = Seen()
        var logger = Logger(label: "test") { _ in Recording(seen: seen) }.deferringMetadata
        #expect(logger.deferringMetadata.handler is DeferredMetadataLogHandler)
        for request in 0..<100 {
            var perRequest = logger
            perRequest[metadataKey: "hb.request.id"] = "\(request)"
            perRequest.info("below the level")
        }
        #expect(seen.metadataChanges.withLock { $0 } == 0)
        #expect(seen.lines.withLock { $0.isEmpty })
        // What is set reads back (Hummingbird's RequestContext.id force-unwraps its request id from it).
        var reading = logger
        reading[metadataKey: "hb.request.id"] = "42"
        #expect(reading[metadataKey: "hb.request.id"] == "42" && logger[metadataKey: "hb.request.id"] == nil)

        logger[metadataKey: "hb.request.id"] = "7"
        logger.notice("written", metadata: ["code": "1"])
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = nil
        logger.info("also written")
        let lines = seen.lines.withLock { $0 }
        #expect(lines.map(\.message) == ["written", "also written"])
        #expect(lines.first?.metadata == ["hb.request.id": "7", "code": "1"])
        #expect(lines.last?.metadata == [:])
    }

    @Test func theOutputsMetadataProviderIsUsedAndCanBeReplaced() {
        let seen = Seen()
        var recording = Recording(seen: seen)
        recording.metadataProvider = Logger.MetadataProvider { ["from": "provider"] }
        var logger = Logger(label: "test") { _ in recording }.deferringMetadata
        #expect(logger.handler.metadataProvider?.get() == ["from": "provider"])
        logger.handler.metadataProvider = Logger.MetadataProvider { ["from": "replaced"] }
        #expect(logger.handler.metadataProvider?.get() == ["from": "replaced"])
        logger.handler.metadataProvider = nil
        #expect(logger.handler.metadataProvider == nil)
    }
}
