import CofferStore
import Foundation
import Logging

/// Where a store is, as `--store` says it: a SQLite file, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
/// (`postgresql://` too; `?sslmode=disable|prefer|require`).
public enum StoreLocation {
    /// Whether `text` names a PostgreSQL database.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Opens the store a host serves from: a SQLite file is created or migrated (keys of a first-release
    /// file move into `legacyScope`); a PostgreSQL database gets the schema on first use.
    public static func open(
        _ text: String, legacyScope: KeyScope, logger: Logger
    ) async throws(HostError) -> SQLKeyStore {
        do {
            if isPostgres(text) { return try await SQLKeyStore.openPostgres(url: text, logger: logger) }
            return try await SQLKeyStore.open(path: text, legacyScope: legacyScope, logger: logger)
        } catch {
            throw HostError(.store, "cannot open the store \(redacted(text)): \(error)")
        }
    }

    /// Opens the store of a host for a tool beside it (`coffer principals`, `coffer audit`, `coffer host
    /// status`): a SQLite file must exist with this build's schema.
    public static func openExisting(_ text: String) async throws(HostError) -> SQLKeyStore {
        if !isPostgres(text), !FileManager.default.fileExists(atPath: text) {
            throw HostError(.store, "no store at \(text)")
        }
        do {
            if isPostgres(text) { return try await SQLKeyStore.openPostgres(url: text) }
            return try await SQLKeyStore.openExisting(path: text)
        } catch {
            throw HostError(.store, "cannot open \(redacted(text)): \(error)")
        }
    }

    /// The location without a password, for messages: a URL that does not parse is not printed at all
    /// (it may hold a password that the parser could not find).
    public static func redacted(_ text: String) -> String {
        guard isPostgres(text) else { return text }
        guard var parts = URLComponents(string: text) else { return "postgres://… (not a valid URL)" }
        if parts.password != nil { parts.password = "***" }
        return parts.string ?? "postgres://…"
    }
}
