import CofferStore
import Foundation
import Logging

/// Where a store is, as `--store` says it: a SQLite file, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
/// (`postgresql://` too; `?sslmode=disable|prefer|require`).
enum StoreLocation {
    static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Opens the store a host serves from: a SQLite file is created or migrated (keys of a first-release
    /// file move into `legacyScope`); a PostgreSQL database gets the schema on first use.
    static func open(_ text: String, legacyScope: KeyScope, logger: Logger) async throws -> SQLKeyStore {
        do {
            if isPostgres(text) { return try await SQLKeyStore.openPostgres(url: text, logger: logger) }
            return try await SQLKeyStore.open(path: text, legacyScope: legacyScope, logger: logger)
        } catch {
            throw CLIError("cannot open the store \(redacted(text)): \(error)")
        }
    }

    /// Opens the store of a host for a tool beside it (`coffer principals`, `coffer audit`, `coffer host
    /// status`): a SQLite file must exist with this build's schema.
    static func openExisting(_ text: String) async throws -> SQLKeyStore {
        if !isPostgres(text), !FileManager.default.fileExists(atPath: text) { throw CLIError("no store at \(text)") }
        do {
            if isPostgres(text) { return try await SQLKeyStore.openPostgres(url: text) }
            return try await SQLKeyStore.openExisting(path: text)
        } catch {
            throw CLIError("cannot open \(redacted(text)): \(error)")
        }
    }

    /// The location without a password, for messages.
    static func redacted(_ text: String) -> String {
        guard isPostgres(text), var parts = URLComponents(string: text), parts.password != nil else { return text }
        parts.password = "***"
        return parts.string ?? "postgres://…"
    }
}
