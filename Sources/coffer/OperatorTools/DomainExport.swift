import ArgumentParser
import CofferCrypto
import CofferHost
import CofferStore
import CofferWire
import Foundation

extension DomainCommandGroup {
    /// `coffer domain export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every domain token a host's store holds, one file per epoch.",
            discussion: """
                Writes OUT/epoch-N.token for each stored token (genesis first) and prints the newest file's path \
                (with --json, every file). Tokens are public: only the domain's members can open them. Keep a copy \
                with the recovery kits' member files: a recovery (docs/recovery.md) needs the newest token and the \
                chain to it. The store may be in use by running hosts.
                """)

        @Option(help: "A host's store: a SQLite file or postgres://….") var store: String
        @Option(help: "The folder to write the token files into (created).") var out: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let rows = try await StoredChain.rows(store)
            guard !rows.isEmpty else { throw CLIError("the store holds no domain token") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var files: [String] = []
            for row in rows {
                _ = try DomainToken(derEncoded: row.der)  // only well-formed tokens are written
                let file = "\(out)/epoch-\(row.epoch).token"
                try CLIFiles.write(row.der, to: file)
                files.append(file)
            }
            if json {
                try JSONOutput.print(["files": files, "newest": files[files.count - 1]])
            } else {
                print(files[files.count - 1])
            }
        }
    }
}

/// The domain tokens a host's store holds (the tools open it read-only in effect, and never create a schema).
enum StoredChain {
    static func rows(_ store: String) async throws -> [(epoch: Int64, der: [UInt8])] {
        let keyStore = try await StoreLocation.openExisting(store)
        do {
            let rows = try await keyStore.domainTokens()
            await keyStore.close()
            return rows
        } catch {
            await keyStore.close()
            throw error
        }
    }
}
