import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferWire

/// `coffer domain …`: inspect and verify domain tokens, and relay them to members.
struct DomainCommandGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Inspect, verify and relay domain tokens.",
        subcommands: [Show.self, Verify.self, Relay.self, Export.self])

    /// `coffer domain show`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a domain token's state and authorization in words.")

        @Argument(help: "The token file (DER).") var token: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let token = try CLIFiles.decode(DomainToken.self, from: token)
            let report = CommandReport(token.authorization, state: nil)
            if json {
                try JSONOutput.print([
                    "state": Describe.stateJSON(token.state), "exporter": token.exporter,
                    "authorization": token.authorization.command.command,
                    "approvedBy": token.authorization.approvals.map(\.operatorID),
                    "recipients": token.keys.recipients.map(\.hsmID), "digest": Hex.encode(token.digest),
                ])
                return
            }
            for line in Describe.state(token.state) { print(line) }
            print(
                "  authorized by \(token.authorization.command.command), approved by "
                    + token.authorization.approvals.map(\.operatorID).joined(separator: ", "))
            if let arguments = report.arguments, token.state.epoch > 0 || arguments.commandName == DomainCommand.create
            {
                for line in Describe.arguments(arguments) { print("    " + line) }
            }
            print(
                "  exported and signed by member \(token.exporter); keys sealed to \(token.keys.recipients.count) member(s)"
            )
            print("  token digest \(Hex.encode(token.digest))")
        }
    }

    /// `coffer domain verify`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a chain of domain tokens from a pinned genesis digest, epoch by epoch.",
            discussion: """
                The first token must be the genesis (epoch 0) whose state digest is --genesis; each later token \
                must be authorized by a quorum under the previous state's rules, produce exactly the state it \
                carries, and be signed by an online member. Exits non-zero at the first token that fails.
                """)

        @Option(help: "The genesis state's digest (hex), pinned out of band.") var genesis: String
        @Argument(help: "Token files in epoch order, genesis first.") var tokens: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard let digest = Hex.decode(genesis), digest.count == 48 else {
                throw ValidationError("--genesis is the 48-byte state digest in hex")
            }
            let chain = try tokens.map { try CLIFiles.decode(DomainToken.self, from: $0) }
            var results: [[String: Any]] = []
            var failure: DomainError?
            for index in chain.indices {
                do {
                    if index == 0 {
                        try TokenVerifier.verifyGenesis(chain[0], pinnedDigest: digest)
                    } else {
                        try TokenVerifier.verifySuccessor(chain[index], of: chain[index - 1].state)
                    }
                    results.append([
                        "file": tokens[index], "epoch": chain[index].state.epoch, "verified": true,
                        "command": chain[index].authorization.command.command,
                    ])
                    if !json {
                        print(
                            "epoch \(chain[index].state.epoch): \(chain[index].authorization.command.command) "
                                + "approved by \(chain[index].authorization.approvals.map(\.operatorID).joined(separator: ", ")) — verified"
                        )
                    }
                } catch {
                    failure = error
                    results.append([
                        "file": tokens[index], "epoch": chain[index].state.epoch, "verified": false,
                        "error": error.code.description, "message": error.message,
                    ])
                    if !json {
                        print(
                            "epoch \(chain[index].state.epoch) (\(tokens[index])): REFUSED: \(error.code): \(error.message)"
                        )
                    }
                    break
                }
            }
            if json { try JSONOutput.print(["chain": results, "verified": failure == nil]) }
            if let failure { throw CLIError("the chain does not verify: \(failure.code)") }
            if !json, let last = chain.last {
                print("chain verified: \(chain.count) token(s), current state digest \(Hex.encode(last.state.digest))")
            }
        }
    }
}
