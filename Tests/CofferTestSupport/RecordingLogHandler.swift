import Logging
import Synchronization

/// What a ``RecordingLogHandler`` saw: each line written with its metadata, and how often its metadata was
/// set (swift-log's `StreamLogHandler` formats its metadata into text on every set).
public final class LogRecord: Sendable {
    public let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
    public let metadataChanges = Mutex(0)

    public init() {}
}

/// A log handler that records instead of writing, at `.notice` unless set otherwise.
public struct RecordingLogHandler: LogHandler {
    public let record: LogRecord
    public var logLevel: Logger.Level = .notice
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata: Logger.Metadata = [:] {
        didSet { record.metadataChanges.withLock { $0 += 1 } }
    }

    public init(_ record: LogRecord) { self.record = record }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        all.merge(event.metadata ?? [:]) { _, explicit in explicit }
        record.lines.withLock { $0.append((event.message.description, all)) }
    }
}
