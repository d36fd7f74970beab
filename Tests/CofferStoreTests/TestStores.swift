import Foundation
import Testing

@testable import CofferStore

/// The databases the conformance suite runs every store test against: SQLite always, and PostgreSQL
/// when `COFFER_TEST_POSTGRES` names a server (`scripts/test` starts one and sets it, with
/// `COFFER_REQUIRE_POSTGRES=1` so that a missing server fails the run instead of skipping it).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let postgresURL = ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES"]

    /// SQLite, and PostgreSQL when it is there or required.
    static var available: [StoreKind] {
        postgresURL != nil || ProcessInfo.processInfo.environment["COFFER_REQUIRE_POSTGRES"] == "1"
            ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { rawValue }

    /// A new empty database of this kind.
    func fresh(legacyScope: KeyScope) async throws -> TestDatabase {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("coffer-store-\(UUID().uuidString).sqlite").path
            return TestDatabase(kind: self, location: path, legacyScope: legacyScope)
        case .postgres:
            guard let base = Self.postgresURL else {
                throw StoreTestError("COFFER_REQUIRE_POSTGRES=1 but COFFER_TEST_POSTGRES names no server")
            }
            let name = "coffer_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            // The base database serves as the maintenance connection (its own schema is harmless).
            let admin = try await SQLKeyStore.openPostgres(url: base)
            _ = try await admin.backend.read { c in try await c.query("CREATE DATABASE \(name)", []) }
            await admin.close()
            guard var parts = URLComponents(string: base) else { throw StoreTestError("bad URL \(base)") }
            parts.path = "/" + name
            return TestDatabase(kind: self, location: parts.string ?? base, legacyScope: legacyScope)
        }
    }
}

/// One test's database: opened (and reopened) as a host opens it.
struct TestDatabase: Sendable {
    let kind: StoreKind
    /// The SQLite file, or the PostgreSQL URL.
    let location: String
    let legacyScope: KeyScope

    func open() async throws -> SQLKeyStore {
        switch kind {
        case .sqlite: try await SQLKeyStore.open(path: location, legacyScope: legacyScope)
        case .postgres: try await SQLKeyStore.openPostgres(url: location)
        }
    }

    /// Runs raw SQL on the database (to damage it the way an attacker with database access would).
    func execute(_ statements: [String], on store: SQLKeyStore) async throws {
        for statement in statements {
            _ = try await store.backend.read { c in try await c.query(statement, []) }
        }
    }

    func remove() {
        if kind == .sqlite {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + suffix) }
        }
    }
}

struct StoreTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
