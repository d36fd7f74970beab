import ArgumentParser
import Foundation

/// The one Coffer executable (DESIGN.md): `dev`, `hsm`, `host`, `operator`, `command`, `domain`, `recovery`, `audit`
/// and `principals`.
@main
struct Coffer: AsyncParsableCommand {
    /// The version `coffer --version` prints.
    static let version = "0.1.0-dev"

    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "A key management service that speaks the AWS KMS API.",
        discussion: """
            Coffer keeps plaintext keys only in HSM processes' volatile memory, reaches them over mutually \
            authenticated ECDHE sessions, and changes its domain only by quorum-signed operator commands. \
            See README.md and docs/.
            """,
        version: version,
        subcommands: [
            Dev.self, HSMCommandGroup.self, HostCommand.self, OperatorCommand.self, CommandCommand.self,
            DomainCommandGroup.self, RecoveryCommand.self, AuditCommand.self, PrincipalsCommand.self,
        ]
    )
}

/// Writes operator-facing messages to standard error.
enum FileHandleOutput {
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A line on standard output, written at once (the banners tests and scripts wait for).
    static func standardOutput(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
