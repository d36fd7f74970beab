import ArgumentParser
import Foundation

/// The one Coffer executable (DESIGN.md): `dev`, and later `hsm`, `host`, `operator`, `command`,
/// `domain`, `recovery` and `bench` as the issues that build them land.
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
            DomainCommandGroup.self,
        ]
    )
}

/// `coffer dev`: one HSM and one service host on loopback (issue 5). Until the HSM, the host and the
/// KMS API exist, it says so and exits non-zero rather than pretend to serve.
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an HSM and a KMS API host on this machine (http://127.0.0.1:4599).",
        discussion: """
            Not available yet in this build: the HSM process, the service host and the KMS API are still \
            being built. This build provides the cryptographic primitives and the wire format.
            """
    )

    @Option(help: "The port of the KMS API endpoint.")
    var port: Int = 4599

    @Option(help: "Where dev mode keeps its database, host key and dev operator keys.")
    var dataDir: String = "./.coffer"

    func run() throws {
        print(Dev.helpMessage())
        FileHandleOutput.standardError("coffer dev is not available yet in this build; see README.md (Status).")
        throw ExitCode(2)
    }
}

/// Writes operator-facing messages to standard error.
enum FileHandleOutput {
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
