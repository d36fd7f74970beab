import Foundation
import Testing

@testable import CofferStore

/// What only PostgreSQL has: a server that can be away, a schema created once by whichever host comes
/// first, and URLs.
@Suite(.enabled(if: StoreKind.available.contains(.postgres))) struct PostgresStoreTests {
    @Test func anUnreachableServerIsUnavailableNotAnError() async throws {
        // A port nothing listens on: the store reports `unavailable` (DependencyTimeoutException to callers).
        let listener = try await StoreKind.freePort()
        #expect(
            await storeErrorCode {
                _ = try await SQLKeyStore.openPostgres(url: "postgres://coffer@127.0.0.1:\(listener)/x")
            }
                == .unavailable)
    }

    @Test func hostsStartingTogetherCreateTheSchemaOnce() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let stores = try await withThrowingTaskGroup(of: SQLKeyStore.self) { group in
            for _ in 0..<4 { group.addTask { try await database.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let versions = try await stores[0].backend.read { c in
            try await c.query("SELECT version FROM schema_version", [])
        }
        #expect(versions.map { $0.column("version")?.integer } == [PostgresBackend.schemaVersion])
        for store in stores { await store.close() }
    }

    @Test func aSessionIdleInATransactionIsEndedByTheServer() async throws {
        // A host frozen mid-transaction must not hold its locks, and stall every other host, for as long as
        // it stays frozen (tests/e2e/test_faults.py): each connection asks the server to end such a session.
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        let setting = try await store.backend.read { c in
            try await c.query("SELECT current_setting('idle_in_transaction_session_timeout') AS timeout", [])
        }
        #expect(setting.first?.column("timeout")?.string == "5s")
        await store.close()
    }

    @Test func aDatabaseOfAnotherSchemaIsRefused() async throws {
        let database = try await StoreKind.postgres.fresh(legacyScope: KeyScope(account: "1", region: "r"))
        let store = try await database.open()
        try await database.execute(["UPDATE schema_version SET version = 99"], on: store)
        await store.close()
        #expect(await storeErrorCode { _ = try await database.open() } == .conflict)
    }

    @Test(arguments: [
        "mysql://coffer@127.0.0.1/db", "postgres://127.0.0.1/db", "postgres://coffer@/db",
        "postgres://coffer@127.0.0.1/db?sslmode=sometimes",
    ])
    func aBadURLIsRefusedClearly(_ url: String) async throws {
        #expect(await storeErrorCode { _ = try await SQLKeyStore.openPostgres(url: url) } == .database)
    }
}

extension StoreKind {
    /// A loopback port with nothing listening on it (bound, then released).
    static func freePort() async throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw StoreTestError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
