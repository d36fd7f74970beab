import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferHost
import CofferStore
import CofferWire
import Crypto
import Foundation

/// `coffer recovery …`: recovery kits and `domain.recover` (docs/recovery.md, docs/protocol.md "Recovery").
struct RecoveryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery", abstract: "Create recovery kits, reseal shares to a new HSM, and recover a domain.",
        discussion: """
            A recovery member is a domain member whose agreement private key exists only as M-of-N shares, each \
            sealed to one custodian's key. If every HSM of a domain is lost, M custodians reseal their shares to \
            a new HSM and an operator quorum signs domain.recover; the new HSM rebuilds the key in memory, opens \
            the latest domain token and continues the domain. The ceremony and the drill: docs/recovery.md.
            """,
        subcommands: [Keygen.self, Create.self, Reseal.self, Submit.self])

    /// `coffer recovery create`.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a recovery member and seal one share of its key to each custodian.",
            discussion: """
                Generates the recovery member's keys in memory, splits its agreement private key into one share \
                per custodian (any --threshold of them rebuild it), seals each share to its custodian's public \
                key, writes OUT/share-N.share (N = 1 … custodians, in the order given) and OUT/member.der (the \
                public MemberAddition of kind recovery), and releases the keys. No private key is written. \
                Operators then add the member: coffer command new domain.modifyMembers --add-member OUT/member.der
                """)

        @Option(
            parsing: .upToNextOption,
            help: "Custodians' public key files (from `coffer operator keygen`), comma-separated or repeated.")
        var custodians: [String] = []
        @Option(help: "How many shares rebuild the key (2 … custodians).") var threshold: Int
        @Option(help: "The kit's folder (created; it must not hold a kit already).") var out: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            umask(0o077)
            let paths = custodians.flatMap { $0.split(separator: ",").map(String.init) }
            let keys = try paths.map(CLIFiles.publicKey)
            guard WireLimits.shareThreshold.contains(threshold), keys.count >= threshold else {
                throw ValidationError("--threshold must be 2 … the number of custodians (\(keys.count))")
            }
            try FileManager.default.createDirectory(
                atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard !FileManager.default.fileExists(atPath: out + "/member.der") else {
                throw CLIError("\(out) already holds a kit (member.der): refusing to overwrite it")
            }
            var random = SystemRandom()
            let kit: RecoveryKit
            do {
                kit = try RecoveryKit.create(custodians: keys, threshold: threshold, random: &random)
            } catch {
                throw CLIError("\(error.message)")
            }
            var files: [[String: Any]] = []
            for (index, share) in kit.shares.enumerated() {
                let file = "\(out)/share-\(share.header.x).share"
                try CLIFiles.write(share.derBytes, to: file)
                files.append([
                    "file": file, "x": share.header.x, "custodianKey": paths[index],
                    "custodianFingerprint": share.header.recipient.fingerprint,
                ])
            }
            try CLIFiles.write(kit.member.derBytes, to: out + "/member.der")
            let member = kit.member.identity.identity.hsmID
            if json {
                try JSONOutput.print([
                    "member": member, "memberFile": out + "/member.der", "threshold": threshold, "shares": files,
                ])
                return
            }
            print("recovery member \(member): \(threshold) of \(keys.count) shares rebuild its key")
            for file in files {
                print("  \(file["file"] ?? "") for the custodian of \(file["custodianKey"] ?? "")")
            }
            print(
                "  \(out)/member.der: add it with coffer command new domain.modifyMembers --add-member \(out)/member.der"
            )
            print("the member's private keys were held in memory only and are gone")
        }
    }

    /// `coffer recovery reseal`.
    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "As a custodian, open your share and seal it to the HSM a signed domain.recover names.",
            discussion: """
                A custodian reseals only for a recovery the operators have approved: the tool verifies the \
                domain's chain from the genesis digest you pinned (--genesis; the chain from a host's --store or \
                --token files), that --command is a domain.recover built on its newest state and approved by \
                its rule now, that the HSM it names is self-signed and uninitialized, and that this HSM is live: \
                with --hsm the tool asks it for its identity with a fresh challenge of its own; with \
                --hsm-identity give the file `coffer hsm identify --challenge HEX --out` wrote and the challenge \
                you chose (--challenge). Only then is the share opened, in memory, and sealed to that HSM.
                """)

        @Option(help: "Your share file (from the kit).") var share: String
        @Option(help: "Your custodian private key file (from `coffer recovery keygen`).") var key: String
        @Option(help: "The domain.recover command the operators signed.") var command: String
        @Option(help: "The domain's genesis state digest (hex), pinned out of band.") var genesis: String
        @Option(help: "Read the domain's chain from this host store (a SQLite file or postgres://…).") var store:
            String?
        @Option(help: "Or: the domain's token files in epoch order, genesis first (repeat).") var token: [String] = []
        @Option(help: "The new HSM's address: ask it for its identity with a fresh challenge.") var hsm: String?
        @Option(help: "The new HSM's identity file, written by `coffer hsm identify --challenge HEX --out`.")
        var hsmIdentity: String?
        @Option(help: "With --hsm-identity: the challenge (hex) you chose for it.") var challenge: String?
        @Option(help: "Where to write the share sealed to the HSM.") var out: String
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (hsm == nil) != (hsmIdentity == nil) else {
                throw ValidationError("give exactly one of --hsm and --hsm-identity")
            }
            if hsmIdentity != nil, challenge == nil {
                throw ValidationError("--hsm-identity needs --challenge: the challenge you chose for that identity")
            }
            guard (store == nil) != token.isEmpty else { throw ValidationError("give the chain: --store or --token") }
        }

        func run() async throws {
            umask(0o077)
            guard let pinned = Hex.decode(genesis), pinned.count == WireLimits.digestLength else {
                throw ValidationError("--genesis is the 48-byte genesis state digest in hex")
            }
            let signed = try CLIFiles.decode(SignedCommand.self, from: command)
            guard
                case .recover(let arguments)? = try? CommandArguments(
                    command: signed.command.command, arguments: signed.command.arguments)
            else { throw CLIError("\(command) is not a domain.recover command") }
            let chain = try await Submit.tokens(store: store, files: token)
            let newest: DomainState
            do {
                guard let last = try TokenVerifier.verifyChain(chain, genesisDigest: pinned).last else {
                    throw CLIError("no tokens")
                }
                newest = last
            } catch let error as DomainError {
                throw CLIError("the domain's chain does not verify from --genesis: \(error.code): \(error.message)")
            }
            try await checkLive(arguments.member)
            let sealed = try CLIFiles.decode(SealedShare.self, from: share)
            let custodian: P384.KeyAgreement.PrivateKey
            do {
                custodian = try KeyFile.readAgreementKey(from: key)
            } catch {
                throw CLIError("\(error)")
            }
            var random = SystemRandom()
            let resealed: SealedShare
            do {
                resealed = try RecoveryShares.reseal(
                    sealed, custodian: custodian, command: signed, state: newest, now: Clock.now, random: &random)
            } catch {
                throw CLIError("refusing to reseal: \(error.code): \(error.message)")
            }
            try CLIFiles.write(resealed.derBytes, to: out)
            let hsmID = arguments.member.identity.hsmID
            if json {
                try JSONOutput.print([
                    "hsmID": hsmID, "member": sealed.header.member, "x": sealed.header.x, "file": out,
                    "approvedBy": signed.approvals.map(\.operatorID),
                ])
            } else {
                print("share \(sealed.header.x) of recovery member \(sealed.header.member) sealed to HSM \(hsmID)")
                print(
                    "  recovery approved by \(signed.approvals.map(\.operatorID).joined(separator: ", ")) on the "
                        + "newest state (epoch \(newest.epoch)); the HSM answered your challenge; wrote \(out)")
            }
        }

        /// The HSM the command names answers a challenge of the custodian's as itself, still uninitialized.
        private func checkLive(_ named: SignedIdentity) async throws {
            let expected: [UInt8]
            let identity: SignedIdentity
            if let hsm {
                let connection = try await HSMTools.connect(hsm)
                defer { Task { await connection.close() } }
                var random = SystemRandom()
                expected = random.bytes(count: WireLimits.challengeLength)
                let answer = try await connection.request(.identify(challenge: expected))
                guard case .identity(let signed) = answer else { throw HSMTools.unexpected(answer) }
                identity = signed
            } else {
                guard let text = challenge, let bytes = Hex.decode(text), bytes.count == WireLimits.challengeLength
                else {
                    throw ValidationError("--challenge is \(WireLimits.challengeLength) bytes in hex")
                }
                expected = bytes
                identity = try CLIFiles.decode(SignedIdentity.self, from: hsmIdentity ?? "")
            }
            guard ConstantTime.equals(identity.identity.challenge, expected), identity.isSelfSigned else {
                throw CLIError("the identity does not answer your challenge: refusing to reseal to it")
            }
            guard identity.identity.signingKey == named.identity.signingKey,
                identity.identity.agreementKey == named.identity.agreementKey
            else {
                throw CLIError("that HSM is not the one the recovery command names: refusing to reseal to it")
            }
            guard identity.identity.state == .uninitialized else {
                throw CLIError("that HSM is not uninitialized: refusing to reseal to it")
            }
        }
    }

    /// `coffer recovery keygen`.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a custodian's key pair (P-384), used only to open recovery shares.",
            discussion: """
                Writes the private key as a PKCS#8 PEM file with mode 0600 (--out) and the public key next to it \
                (<out without .pem>.pub.pem), which goes to whoever runs `coffer recovery create`. Keep the private \
                key offline, and use it for nothing else: not as an operator's signing key.
                """)

        @Option(help: "Where to write the private key (refuses to overwrite).") var out: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let key = P384.KeyAgreement.PrivateKey()
            do {
                try KeyFile.write(key, to: out)
            } catch {
                throw CLIError("\(error)")
            }
            let publicKey = P384PublicKey(key.publicKey)
            let publicPath = (out.hasSuffix(".pem") ? String(out.dropLast(4)) : out) + ".pub.pem"
            try CLIFiles.write(Array(CLIFiles.publicPEM(publicKey).utf8), to: publicPath)
            if json {
                try JSONOutput.print([
                    "privateKeyFile": out, "publicKeyFile": publicPath, "fingerprint": publicKey.fingerprint,
                ])
            } else {
                print("custodian key \(publicKey.fingerprint): wrote \(out) and \(publicPath)")
            }
        }
    }

    /// `coffer recovery submit`.
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signed domain.recover, the domain's chain and the resealed shares to the new HSM.",
            discussion: """
                The chain runs from the state the command's anchor pins (the genesis, normally) to the state the \
                command was built on. It is read from a host's store (--store, or --data-dir for coffer dev) or \
                given as token files in epoch order (--token, repeat). On success the HSM is the domain's one \
                online member at the next epoch; the new token is written to --out, and hosts that reach the HSM \
                adopt it at their next health check.
                """)

        @Option(help: "The signed domain.recover command file.") var command: String
        @Option(help: "A share resealed to this HSM (repeat, at least the kit's threshold).") var share: [String] = []
        @Option(help: "The new, uninitialized HSM's address.") var hsm: String
        @Option(help: "Token files, in epoch order, from the anchor to the command's base (repeat).") var token:
            [String] = []
        @Option(help: "Read the chain from this host store (a SQLite file or postgres://…) instead of --token.")
        var store: String?
        @Option(help: "Write the token the recovery produces here.") var out: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let signed = try CLIFiles.decode(SignedCommand.self, from: command)
            guard signed.command.command == DomainCommand.recover,
                case .recover(let arguments)? = try? CommandArguments(
                    command: signed.command.command, arguments: signed.command.arguments)
            else {
                throw CLIError("\(command) is not a domain.recover command")
            }
            let chain = try await Self.chain(
                anchor: arguments.anchor, base: signed.command.baseDigest, tokens: token, store: store)
            let shares = try share.map { try CLIFiles.decode(SealedShare.self, from: $0) }
            guard !shares.isEmpty else { throw ValidationError("give the resealed shares with --share") }
            let request = RecoverRequest(command: signed, chain: chain, shares: shares)
            let connection = try await HSMTools.connect(hsm)
            defer { Task { await connection.close() } }
            let answer = try await connection.request(.recover(request))
            guard case .token(let recovered) = answer else { throw HSMTools.unexpected(answer) }
            try CLIFiles.write(recovered.derBytes, to: out)
            if json {
                try JSONOutput.print([
                    "epoch": recovered.state.epoch, "digest": Hex.encode(recovered.state.digest),
                    "member": recovered.exporter, "file": out,
                ])
            } else {
                print(
                    "recovered: HSM \(recovered.exporter) is the online member at epoch \(recovered.state.epoch) "
                        + "(state digest \(Hex.encode(recovered.state.digest))); wrote \(out)")
            }
        }

        /// The tokens from the state `anchor` pins to the state `base` names.
        static func chain(
            anchor: [UInt8], base: [UInt8], tokens: [String], store: String?
        ) async throws
            -> [DomainToken]
        {
            var all = try await Self.tokens(store: store, files: tokens)
            guard let start = all.firstIndex(where: { $0.state.digest == anchor }) else {
                throw CLIError("no token of the chain has the anchor's state \(Hex.encode(anchor))")
            }
            all = Array(all[start...])
            guard let end = all.firstIndex(where: { $0.state.digest == base }) else {
                throw CLIError("no token of the chain has the state the command was built on")
            }
            return Array(all[...end])
        }

        /// Every token of a host's store, or of the given files.
        static func tokens(store: String?, files: [String]) async throws -> [DomainToken] {
            guard let store else { return try files.map { try CLIFiles.decode(DomainToken.self, from: $0) } }
            let rows = try await StoredChain.rows(store)
            return try rows.map { try DomainToken(derEncoded: $0.der) }
        }
    }
}
