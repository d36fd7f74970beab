import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import Foundation

/// `coffer command …`: the three phases of a quorum-signed command (PROTOCOL §5).
struct CommandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command", abstract: "Build, sign, inspect and submit quorum-signed domain commands.",
        subcommands: [New.self, Sign.self, Show.self, Submit.self])

    /// `coffer command new`.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a command against the domain's current state (phase 1).",
            discussion: """
                COMMAND is one of: \(CommandArguments.commandNames.joined(separator: ", ")).
                The command is written unsigned; every approving operator then runs `coffer command sign`.
                Examples:
                  coffer command new domain.create --name prod --member hsm-a.identity \\
                      --operator alice:admin=alice.pub.pem --operator bob:admin=bob.pub.pem \\
                      --rule '*=admin:2' --out create.cmd
                  coffer command new domain.rotateKeys --state current.token --out rotate.cmd
                  coffer command new domain.modifyHosts --state current.token --add-host host-1=host.pub.pem --out hosts.cmd
                  coffer command new domain.recover --state latest.token --member new-hsm.identity \\
                      --anchor GENESIS-DIGEST --out recover.cmd
                """)

        @Argument(help: "The command name, e.g. domain.rotateKeys.") var command: String
        @Option(help: "The domain's current token (DER); the command is built on its state.") var state: String?
        @Option(help: "Where to write the command (DER).") var out: String
        @Option(help: "How long the command stays valid, in seconds (at most the domain's commandMaxAge).")
        var lifetime: Int64 = CommandBuilder.defaultLifetime
        @Option(help: "domain.create: the domain's name.") var name: String?
        @Option(
            help:
                "domain.create, domain.recover: the creating or recovering HSM's identity file (from `coffer hsm identify --out`)."
        )
        var member: String?
        @Option(help: "domain.recover: the digest (hex) of the chain's first state, normally the pinned genesis.")
        var anchor: String?
        @Option(name: .customLong("operator"), help: "domain.create: id:role,role=public-key-file (repeat).")
        var operators: [String] = []
        @Option(
            help:
                "domain.create, domain.modifyRules: command=role:min+role:min|role:min; '*' for every other command (repeat)."
        )
        var rule: [String] = []
        @Option(help: "domain.create, domain.modifyHosts: id=public-key-file (repeat).") var addHost: [String] = []
        @Option(help: "domain.modifyHosts: a host id to remove (repeat).") var removeHost: [String] = []
        @Option(help: "domain.modifyOperators: id:role,role=public-key-file to add or replace (repeat).")
        var upsertOperator: [String] = []
        @Option(help: "domain.modifyOperators: an operator id to remove (repeat).") var removeOperator: [String] = []
        @Option(help: "domain.modifyMembers: identity-file[:recovery] to add (repeat).") var addMember: [String] = []
        @Option(help: "domain.modifyMembers: an hsmID to remove (repeat).") var removeMember: [String] = []
        @Option(help: "domain.create, domain.modifyParameters: session lifetime in seconds.") var sessionLifetime: Int?
        @Option(help: "domain.create, domain.modifyParameters: domain keys kept, the active one included.")
        var domainKeyRetention: Int?
        @Option(help: "domain.create, domain.modifyParameters: the longest a command may be valid, in seconds.")
        var commandMaxAge: Int?
        @Option(help: "domain.create, domain.modifyParameters: tolerated clock difference, in seconds.") var clockSkew:
            Int?
        @Option(help: "domain.join: the token that lists the joining HSM.") var token: String?
        @Option(help: "domain.leave: the hsmID of the HSM that leaves.") var hsm: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let base = try state.map { try CLIFiles.decode(DomainToken.self, from: $0).state }
            let arguments = try buildArguments(base: base)
            if base == nil, ![DomainCommand.create, DomainCommand.join].contains(command) {
                throw ValidationError("\(command) is built against the current state: pass --state current.token")
            }
            var random = SystemRandom()
            let quorumCommand = CommandBuilder.command(
                arguments, base: base, issuedAt: Clock.now, lifetime: lifetime, random: &random)
            let signed = SignedCommand(command: quorumCommand, approvals: [])
            try CLIFiles.write(signed.derBytes, to: out)
            if json {
                try JSONOutput.print(CommandReport(signed, state: base).json.merging(["file": out]) { $1 })
            } else {
                CommandReport(signed, state: base).printText()
                print("wrote \(out) (unsigned; each approver runs: coffer command sign \(out) --key KEY.pem)")
            }
        }

        private func parameters(_ base: Parameters) -> Parameters {
            Parameters(
                sessionLifetime: sessionLifetime ?? base.sessionLifetime,
                domainKeyRetention: domainKeyRetention ?? base.domainKeyRetention,
                commandMaxAge: commandMaxAge ?? base.commandMaxAge, clockSkew: clockSkew ?? base.clockSkew)
        }

        private func buildArguments(base: DomainState?) throws -> CommandArguments {
            switch command {
            case DomainCommand.create:
                guard let name, let member else { throw ValidationError("domain.create needs --name and --member") }
                guard !operators.isEmpty, !rule.isEmpty else {
                    throw ValidationError("domain.create needs at least one --operator and --rule")
                }
                return .create(
                    DomainCreate(
                        name: name, operators: try operators.map(CommandSpecs.operatorSpec),
                        member: try CommandSpecs.memberSpec(member), hosts: try addHost.map(CommandSpecs.hostSpec),
                        rules: try CommandSpecs.rules(rule), parameters: parameters(.defaults)))
            case DomainCommand.modifyOperators:
                return .modifyOperators(
                    upsert: try upsertOperator.map(CommandSpecs.operatorSpec).sortedByUTF8(\.id),
                    remove: removeOperator.sortedByUTF8 { $0 })
            case DomainCommand.modifyMembers:
                return .modifyMembers(
                    add: try addMember.map(CommandSpecs.memberSpec).sortedByUTF8(\.identity.identity.hsmID),
                    remove: removeMember.sortedByUTF8 { $0 })
            case DomainCommand.modifyHosts:
                return .modifyHosts(
                    add: try addHost.map(CommandSpecs.hostSpec).sortedByUTF8(\.id),
                    remove: removeHost.sortedByUTF8 { $0 })
            case DomainCommand.modifyRules:
                guard !rule.isEmpty else {
                    throw ValidationError("domain.modifyRules needs --rule (it replaces all rules)")
                }
                return .modifyRules(try CommandSpecs.rules(rule))
            case DomainCommand.modifyParameters:
                guard let base else { throw ValidationError("domain.modifyParameters needs --state") }
                return .modifyParameters(parameters(base.parameters))
            case DomainCommand.rotateKeys:
                return .rotateKeys
            case DomainCommand.join:
                guard let token else {
                    throw ValidationError("domain.join needs --token (the token that lists the HSM)")
                }
                return .join(try CLIFiles.decode(DomainToken.self, from: token))
            case DomainCommand.leave:
                guard let hsm else { throw ValidationError("domain.leave needs --hsm HSMID") }
                return .leave(hsmID: hsm)
            case DomainCommand.recover:
                guard let member, let anchor else {
                    throw ValidationError("domain.recover needs --member (the new HSM's identity) and --anchor")
                }
                guard let digest = Hex.decode(anchor), digest.count == WireLimits.digestLength else {
                    throw ValidationError("--anchor is a 48-byte state digest in hex")
                }
                return .recover(
                    DomainRecover(anchor: digest, member: try CLIFiles.decode(SignedIdentity.self, from: member)))
            default:
                throw ValidationError(
                    "unknown command \(command); one of \(CommandArguments.commandNames.joined(separator: ", "))")
            }
        }
    }

    /// `coffer command sign`.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review a command and add your approval (phase 2).",
            discussion: """
                Prints exactly what the command does and who has approved it, refuses a file that does not parse \
                or whose existing approvals do not verify, then signs the command bytes with your key and writes \
                the file back (or to --out). Your operator id is found from your key in the domain state.
                """)

        @Argument(help: "The command file.") var file: String
        @Option(help: "Your private key file.") var key: String
        @Option(help: "The domain's current token (needed for every command but domain.create and domain.join).")
        var state: String?
        @Option(help: "Write the signed command here instead of back to FILE.") var out: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let signed = try CLIFiles.decode(SignedCommand.self, from: file)
            let base = try state.map { try CLIFiles.decode(DomainToken.self, from: $0).state }
            let report = CommandReport(signed, state: base)
            guard let operators = report.operators else {
                throw CLIError("cannot check who may sign: pass --state current.token")
            }
            if let bad = report.approvals.first(where: { !$0.valid }) {
                throw CLIError("refusing to sign: the approval of \(bad.operatorID) does not verify (\(bad.detail))")
            }
            if let problem = report.argumentsError { throw CLIError("refusing to sign: \(problem)") }
            let privateKey = try CLIFiles.signingKey(key)
            let publicKey = P384PublicKey(privateKey.publicKey)
            guard let me = operators.first(where: { $0.signingKey == publicKey }) else {
                throw CLIError("key \(publicKey.fingerprint) is not an operator of this domain")
            }
            let approval = try CommandBuilder.approve(signed.command, as: me.id, key: privateKey)
            let updated = signed.adding(approval)
            try CLIFiles.write(updated.derBytes, to: out ?? file)
            let after = CommandReport(updated, state: base)
            if json {
                try JSONOutput.print(after.json.merging(["signedBy": me.id, "file": out ?? file]) { $1 })
            } else {
                print("You are approving, as \(me.id):")
                after.printText()
                print("signed as \(me.id); wrote \(out ?? file)")
            }
        }
    }

    /// `coffer command show`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a command in words, its approvals, and whether its rule is met.")

        @Argument(help: "The command file.") var file: String
        @Option(help: "The domain's current token, to check the approvals and the rule.") var state: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let signed = try CLIFiles.decode(SignedCommand.self, from: file)
            let report = CommandReport(
                signed, state: try state.map { try CLIFiles.decode(DomainToken.self, from: $0).state })
            if json { try JSONOutput.print(report.json) } else { report.printText() }
        }
    }
}
