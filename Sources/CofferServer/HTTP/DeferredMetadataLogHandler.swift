import Logging

/// A log handler that keeps its metadata as set and hands it to `output` only for a line it writes.
///
/// Hummingbird sets a request id on its logger for every request (`hb.request.id`); swift-log's
/// `StreamLogHandler` formats its whole metadata into text on every change, so each request paid for a line
/// that, at the levels a server runs at, is never written. Here a change stores the value, and the
/// formatting happens in `log(event:)`, which `Logger` calls only at or above the log level.
struct DeferredMetadataLogHandler: LogHandler {
    /// The handler that writes (its own metadata is replaced by this one's for each line).
    private var output: any LogHandler
    var metadata: Logger.Metadata

    init(_ output: any LogHandler) {
        self.output = output
        self.metadata = output.metadata
    }

    var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { output.metadataProvider }
        set { output.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Hands this handler's metadata to `output` and the line to write. `output` formats the metadata again
    /// for each line (a `StreamLogHandler` once on the assignment, and once more when the line brings
    /// metadata of its own): a cost paid per line written, not per request.
    func log(event: LogEvent) {
        var output = self.output
        output.metadata = metadata
        output.log(event: event)
    }
}

extension Logger {
    /// This logger, with its metadata formatted only for the lines it writes (``DeferredMetadataLogHandler``).
    var deferringMetadata: Logger {
        if handler is DeferredMetadataLogHandler { return self }
        return Logger(label: label) { [handler] _ in DeferredMetadataLogHandler(handler) }
    }
}
