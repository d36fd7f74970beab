import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferWire

extension CommandCommand {
    /// `coffer command submit`.
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a signed command to an HSM (phase 3) and save the resulting token.",
            discussion: """
                The HSM verifies and executes the command and answers with the new domain token, which is \
                printed in words and written with --out. Other members then need it: `coffer domain relay`. \
                When the HSM refuses, its failure code and message are printed and the exit status is 1.
                """)

        @Argument(help: "The signed command file.") var file: String
        @Option(help: "The HSM's address.") var hsm: String
        @Option(help: "Write the resulting token (DER) here.") var out: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let signed = try CLIFiles.decode(SignedCommand.self, from: file)
            let connection = try await HSMTools.connect(hsm)
            defer { Task { await connection.close() } }
            let answer = try await connection.request(.command(signed))
            switch answer {
            case .token(let token):
                if let out { try CLIFiles.write(token.derBytes, to: out) }
                if json {
                    try JSONOutput.print([
                        "accepted": true, "epoch": token.state.epoch, "digest": Hex.encode(token.state.digest),
                        "state": Describe.stateJSON(token.state), "file": out ?? "",
                    ])
                } else {
                    print("accepted: \(signed.command.command) → epoch \(token.state.epoch)")
                    for line in Describe.state(token.state) { print("  " + line) }
                    if let out { print("wrote \(out)") }
                }
            case .failure(let failure):
                if json {
                    try JSONOutput.print(["accepted": false, "code": "\(failure.code)", "message": failure.message])
                } else {
                    print("refused: \(failure.code): \(failure.message)")
                }
                throw ExitCode(1)
            default:
                throw HSMTools.unexpected(answer)
            }
        }
    }
}

extension DomainCommandGroup {
    /// `coffer domain relay`.
    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a domain token to other members and report each answer.",
            discussion: """
                Each HSM checks the token against its own state (the authorization meets its rules, the new \
                state is exactly what the command produces, the exporter is a member) and moves to it, or \
                refuses. A member the token removes answers, then wipes itself. Exit status 1 if any refused.
                """)

        @Argument(help: "The token file.") var token: String
        @Option(help: "An HSM's address (repeat).") var hsm: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let token = try CLIFiles.decode(DomainToken.self, from: token)
            var results: [[String: Any]] = []
            var refused = false
            for address in hsm {
                var result: [String: Any] = ["hsm": address]
                do {
                    let connection = try await HSMTools.connect(address)
                    let answer = try await connection.request(.applyToken(token))
                    await connection.close()
                    switch answer {
                    case .token(let applied):
                        result["applied"] = true
                        result["epoch"] = applied.state.epoch
                        if !json { print("\(address): applied, now at epoch \(applied.state.epoch)") }
                    case .failure(let failure):
                        refused = true
                        result["applied"] = false
                        result["code"] = "\(failure.code)"
                        result["message"] = failure.message
                        if !json { print("\(address): refused: \(failure.code): \(failure.message)") }
                    default:
                        throw HSMTools.unexpected(answer)
                    }
                } catch {
                    refused = true
                    result["applied"] = false
                    result["error"] = "\(error)"
                    if !json { print("\(address): \(error)") }
                }
                results.append(result)
            }
            if json { try JSONOutput.print(["results": results]) }
            if refused { throw ExitCode(1) }
        }
    }
}
