import ArgumentParser
import CofferCrypto
import CofferHost
import CofferStore
import Foundation

/// `coffer audit`: read and check the audit log of a store (docs/access-control.md, "The audit log").
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, check and export the tamper-evident audit log of a Coffer store.",
        discussion: """
            Every KMS call a host serves is one record in its store's audit log, chained to the record \
            before it by SHA-256. `verify` recomputes the chain and names the first record that was edited, \
            removed, inserted or moved; `tail` prints the newest records; `export` writes them as JSON lines \
            in the shape of CloudTrail's KMS events.
            """,
        subcommands: [Tail.self, Verify.self, Export.self])

    /// Where the store is: a database file, or a `coffer dev` data directory.
    struct Location: ParsableArguments {
        @Option(help: "The store of a host (coffer host --store: a SQLite file or postgres://…).") var store: String?
        @Option(help: "A coffer dev data directory (its coffer.sqlite).") var dataDir: String = "./.coffer"

        var path: String { store ?? dataDir + "/coffer.sqlite" }

        func open() async throws -> SQLKeyStore { try await StoreLocation.openExisting(path) }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the newest records, oldest first.")
        @OptionGroup var location: Location
        @Option(name: [.customShort("n"), .long], help: "How many records.") var lines: Int = 20

        func run() async throws {
            let store = try await location.open()
            let rows = try await AuditCommand.all(store)
            for row in rows.suffix(max(lines, 0)) { print(row.entry.record) }
            await store.close()
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain; exit 1 naming the first bad record if the log was changed.")
        @OptionGroup var location: Location

        func run() async throws {
            let store = try await location.open()
            let result = try await store.verifyAudit()
            let head = try await store.auditHead()
            await store.close()
            if let bad = result.firstBad {
                FileHandleOutput.standardError("audit log NOT intact: record \(bad): \(result.reason ?? "")")
                throw ExitCode(1)
            }
            print("audit log intact: \(result.count) records")
            // Kept outside the store, the head's chain value shows later whether the newest records were cut.
            if let head { print("head: record \(head.sequence), chain \(Hex.encode(head.chain))") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write records as JSON lines (CloudTrail's KMS event shape), from --after onwards.")
        @OptionGroup var location: Location
        @Option(help: "Only records after this sequence number.") var after: Int64 = 0

        func run() async throws {
            let store = try await location.open()
            var cursor = after
            while true {
                let rows = try await store.auditRecords(after: cursor, limit: 1_000)
                for row in rows { print(row.entry.record) }
                guard rows.count == 1_000, let last = rows.last else { break }
                cursor = last.sequence
            }
            await store.close()
        }
    }

    static func all(_ store: SQLKeyStore) async throws -> [AuditRow] {
        var rows: [AuditRow] = []
        var cursor: Int64 = 0
        while true {
            let page = try await store.auditRecords(after: cursor, limit: 1_000)
            rows += page
            guard page.count == 1_000, let last = page.last else { return rows }
            cursor = last.sequence
        }
    }
}
