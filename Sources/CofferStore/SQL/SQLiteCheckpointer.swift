import Logging
import SQLiteNIO

extension SQLiteBackend {
    /// Checkpoints a SQLite file's WAL from a connection of its own, off the path of requests.
    ///
    /// Every ``interval`` it runs a PASSIVE checkpoint, which copies what the WAL holds into the database
    /// without waiting for or blocking the request connection. Under continuous writes the WAL may never
    /// be wholly copied at the moment a writer starts, which is when SQLite rewinds it; past
    /// ``restartFrames`` frames a RESTART checkpoint waits for the writer in progress and rewinds it, which
    /// holds writes up for a moment only, since the passive rounds have already copied nearly all of it.
    actor Checkpointer {
        /// How often the WAL is checkpointed.
        static let interval = Duration.seconds(1)
        /// WAL frames (pages) past which the WAL is rewound: 64 MiB of 4 KiB pages.
        static let restartFrames = 16_384

        private let connection: SQLiteConnection
        private let logger: Logger
        private var loop: Task<Void, Never>?

        init(connection: SQLiteConnection, logger: Logger) {
            self.connection = connection
            self.logger = logger
        }

        /// Starts the rounds (once the database is migrated).
        func start() {
            guard loop == nil else { return }
            loop = Task { [connection, logger] in
                do {
                    // A RESTART checkpoint waits for the writer in progress, as long as a statement would.
                    _ = try await connection.query("PRAGMA busy_timeout=\(SQLiteBackend.busyTimeoutMilliseconds)")
                    // Each checkpoint syncs the WAL before copying it (what makes deferred commits durable)
                    // and the database after.
                    _ = try await connection.query("PRAGMA synchronous=FULL")
                } catch {
                    logger.warning("sqlite checkpoints: cannot set up the connection: \(error)")
                }
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: Self.interval)
                        try await Self.round(connection)
                    } catch is CancellationError {
                        return
                    } catch {
                        // The next round tries again; the request connection is unaffected.
                        logger.warning("sqlite checkpoint failed: \(error)")
                    }
                }
            }
        }

        /// One round: passive, then a restart when the WAL has grown past `restartFrames`. Whether it
        /// restarted, and the WAL's frames and those copied after the round.
        @discardableResult
        static func round(
            _ connection: SQLiteConnection, restartFrames: Int = restartFrames
        ) async throws -> (restarted: Bool, frames: Int, copied: Int) {
            func frames(_ rows: [SQLiteRow]) -> (Int, Int) {
                (rows.first?.column("log")?.integer ?? 0, rows.first?.column("checkpointed")?.integer ?? 0)
            }
            let (log, copied) = frames(try await connection.query("PRAGMA wal_checkpoint(PASSIVE)"))
            guard log > restartFrames else { return (false, log, copied) }
            let (after, copiedAfter) = frames(try await connection.query("PRAGMA wal_checkpoint(RESTART)"))
            return (true, after, copiedAfter)
        }

        /// Ends the rounds (a round in progress finishes first), checkpoints once more and closes the
        /// connection.
        func stop() async {
            loop?.cancel()
            await loop?.value
            loop = nil
            _ = try? await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
            try? await connection.close()
        }
    }
}
