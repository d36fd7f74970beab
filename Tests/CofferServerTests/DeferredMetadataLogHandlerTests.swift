import CofferTestSupport
import Logging
import Synchronization
import Testing

@testable import CofferServer

/// The server's logger keeps metadata as set and formats it only for a line it writes.
@Suite struct DeferredMetadataLogHandlerTests {
    @Test func metadataReachesTheOutputOnlyForLinesWritten() {
        let seen = LogRecord()
        var logger = Logger(label: "test") { _ in RecordingLogHandler(seen) }.deferringMetadata
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
        let seen = LogRecord()
        var recording = RecordingLogHandler(seen)
        recording.metadataProvider = Logger.MetadataProvider { ["from": "provider"] }
        var logger = Logger(label: "test") { _ in recording }.deferringMetadata
        #expect(logger.handler.metadataProvider?.get() == ["from": "provider"])
        logger.handler.metadataProvider = Logger.MetadataProvider { ["from": "replaced"] }
        #expect(logger.handler.metadataProvider?.get() == ["from": "replaced"])
        logger.handler.metadataProvider = nil
        #expect(logger.handler.metadataProvider == nil)
    }
}
