import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferWire
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// `coffer hsm …`: run an HSM, or talk to one as an operator.
struct HSMCommandGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsm", abstract: "Run an HSM process, or identify one.",
        subcommands: [Serve.self, Identify.self, Token.self, CheckSession.self], defaultSubcommand: Serve.self)

    /// `coffer hsm [serve] --listen ADDR`.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run an HSM: one socket, keys only in memory, wiped on exit.",
            discussion: """
                The HSM generates its identity keys at start, disables core dumps and locks its memory (warning \
                when the system does not permit it), and serves framed DER requests on one socket: identify, \
                quorum-signed commands, domain tokens from other members. It reads and writes no file after \
                start-up. SIGTERM or SIGINT wipes every key and exits. A restarted HSM is a new HSM: it has a \
                new identity and joins its domain again with domain.join.
                """)

        @Option(help: "HOST:PORT or unix:/path/to/socket.") var listen: String = "127.0.0.1:7100"
        @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
        @Option(
            help: ArgumentHelp(
                "Seconds a connection may stay open before it authenticates (1…600).",
                discussion: """
                    A connection counts as authenticated once it carries an accepted SignedInit or a session \
                    request; operators' and relays' connections never do, and are closed after this long.
                    """))
        var unauthenticatedGrace: Int = 10

        func validate() throws {
            guard (1...600).contains(unauthenticatedGrace) else {
                throw ValidationError("--unauthenticated-grace must be 1…600 seconds")
            }
        }

        func run() async throws {
            guard let address = HSMAddress(listen) else {
                throw ValidationError("--listen: expected HOST:PORT or unix:/path")
            }
            var logger = Logger(label: "coffer.hsm")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            let hygiene = MemoryHygiene.apply()
            if !hygiene.coreDumpsDisabled { logger.warning("could not disable core dumps") }
            if !hygiene.memoryLocked {
                logger.warning(
                    "memory is not locked (mlockall: \(hygiene.lockError ?? "refused")); keys may be swapped to disk")
            }
            let server = HSMServer(
                core: HSMCore(), logger: logger, unauthenticatedGrace: .seconds(Int64(unauthenticatedGrace)))
            let channel = try await server.bind(address, group: MultiThreadedEventLoopGroup.singleton)
            let shown =
                channel.localAddress.map { "\($0.ipAddress ?? address.description):\($0.port ?? 0)" }
                ?? address.description
            logger.notice("listening", metadata: ["address": "\(address)", "hsmID": "\(server.hsmID ?? "")"])
            let line =
                "coffer hsm \(server.hsmID ?? "") listening on \(address.description.hasPrefix("unix:") ? address.description : shown)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            // SIGTERM and SIGINT shut the service down gracefully: it wipes every key, then the process ends.
            let group = ServiceGroup(
                services: [HSMService(server: server, channel: channel)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            try await group.run()
            logger.notice("wiped every key; exiting")
        }
    }

    /// `coffer hsm identify`.
    struct Identify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask an HSM who it is, with a fresh challenge, and verify the answer.",
            discussion: """
                Sends a fresh random challenge, checks that the answer echoes it, is signed by the key it names, \
                and that the hsmID is the hash of that key. --out writes the signed identity for \
                `coffer command new domain.create --member` or `domain.modifyMembers --add-member`.
                """)

        @Option(help: "The HSM's address (HOST:PORT or unix:/path).") var hsm: String
        @Option(help: "Write the verified signed identity (DER) here.") var out: String?
        @Option(
            help: "The challenge (32 hex digits) to send instead of a random one, e.g. one a recovery custodian chose.")
        var challenge: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let challenge: [UInt8]
            if let given = self.challenge {
                guard let bytes = Hex.decode(given), bytes.count == WireLimits.challengeLength else {
                    throw ValidationError("--challenge is \(WireLimits.challengeLength) bytes in hex")
                }
                challenge = bytes
            } else {
                challenge = SystemEntropy.bytes(count: 16)
            }
            let connection = try await HSMTools.connect(hsm)
            defer { Task { await connection.close() } }
            let answer = try await connection.request(.identify(challenge: challenge))
            guard case .identity(let signed) = answer else { throw HSMTools.unexpected(answer) }
            let identity = signed.identity
            guard identity.challenge == challenge else {
                throw CLIError("the HSM did not echo the challenge: refusing its identity")
            }
            guard signed.isSelfSigned else { throw CLIError("the identity's signature does not verify: refusing it") }
            guard identity.signingKey.fingerprint == identity.hsmID else {
                throw CLIError("the hsmID is not the hash of the signing key: refusing it")
            }
            if let out { try CLIFiles.write(signed.derBytes, to: out) }
            let state = identity.state == .operational ? "operational" : "uninitialized"
            if json {
                var object: [String: Any] = ["hsmID": identity.hsmID, "state": state, "verified": true]
                if let domainID = identity.domainID { object["domainID"] = Hex.encode(domainID) }
                if let epoch = identity.epoch { object["epoch"] = epoch }
                if let out { object["file"] = out }
                try JSONOutput.print(object)
            } else {
                print(
                    "hsm \(identity.hsmID): \(state)"
                        + (identity.domainID.map { ", domain \(Hex.encode($0)) at epoch \(identity.epoch ?? 0)" } ?? "")
                )
                print("  identity verified (fresh challenge echoed, self-signed, hsmID = H(signing key))")
                if let out { print("  wrote \(out)") }
            }
        }
    }

    /// `coffer hsm token`.
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch an HSM's current domain token.")

        @Option(help: "The HSM's address.") var hsm: String
        @Option(help: "Write the token (DER) here.") var out: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let connection = try await HSMTools.connect(hsm)
            defer { Task { await connection.close() } }
            let answer = try await connection.request(.currentToken)
            guard case .token(let token) = answer else { throw HSMTools.unexpected(answer) }
            try CLIFiles.write(token.derBytes, to: out)
            if json {
                try JSONOutput.print([
                    "epoch": token.state.epoch, "digest": Hex.encode(token.state.digest), "file": out,
                ])
            } else {
                print("epoch \(token.state.epoch), state digest \(Hex.encode(token.state.digest)); wrote \(out)")
            }
        }
    }
}

/// Shared client plumbing for the operator tools that talk to HSMs.
enum HSMTools {
    static func connect(_ text: String) async throws -> HSMConnection {
        guard let address = HSMAddress(text) else { throw ValidationError("--hsm: expected HOST:PORT or unix:/path") }
        do {
            return try await HSMConnection.connect(to: address)
        } catch {
            throw CLIError("cannot reach the HSM at \(address): \(error)")
        }
    }

    static func unexpected(_ answer: Envelope.Body) -> CLIError {
        if case .failure(let failure) = answer {
            return CLIError("the HSM refused: \(failure.code): \(failure.message)")
        }
        return CLIError("the HSM answered with an unexpected message")
    }
}
