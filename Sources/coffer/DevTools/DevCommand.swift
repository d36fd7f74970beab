import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferHost
import CofferKMS
import CofferServer
import CofferStore
import CofferWire
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `coffer dev`: an HSM and a KMS API host on this machine, one command, keys that survive restarts.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an HSM and a KMS API host on this machine (http://127.0.0.1:4599).",
        discussion: """
            The first start creates a dev domain in --data-dir: three generated operator keys (any two approve a \
            change), a host key, an HSM that the three operators make the domain's member, and an admin \
            principal (identity policy kms:*) whose secret access key only the HSM keeps, and a recovery kit \
            (three custodians, any two of whom rebuild the recovery member's key). Each start has a new HSM, as \
            production does: later starts recover the domain on it with domain.recover (docs/recovery.md), two \
            custodians resealing their shares and two dev operators signing, so every key created before still \
            works.

            --ephemeral keeps everything in memory instead (a new domain each start, nothing on disk); --seed \
            creates keys and aliases from a YAML file (the same ids on every start); --allow-reset serves a \
            signed reset call for test pipelines (docs/testing-with-coffer.md). A new dev domain lets the dev \
            host rotate the domain keys on its own (operator dev-host, role scheduled-rotation), daily by \
            default (--domain-key-rotation-interval), re-wrapping every stored key first.

            DEV MODE ONLY: the data directory holds the operators' private keys and the recovery kit with its \
            custodians' keys, so anyone who can read it controls the domain. A production HSM keeps its keys in memory only and real \
            operators keep theirs offline (docs/operators.md, docs/deployment.md).
            """)

    @Option(help: "The port of the KMS API endpoint on 127.0.0.1.") var port: Int = 4599
    @Option(help: "Where dev mode keeps its database and keys.") var dataDir: String = "./.coffer"
    @Option(
        help: """
            The key store instead of DATA-DIR/coffer.sqlite: another SQLite file, or \
            postgres://USER[:PASSWORD]@HOST[:PORT]/DB (the schema is created on first use).
            """)
    var store: String?
    @Option(help: "The region the printed exports name; every region is served, each its own namespace.")
    var region: String = "us-east-1"
    @Option(help: "The AWS account id of the dev credentials (ARNs, key namespaces).")
    var accountId: String = "000000000000"
    @Option(help: "Create the keys and aliases of a seed file (YAML, docs/testing-with-coffer.md) on start.")
    var seed: String?
    @Flag(
        help: """
            Keep everything in memory: nothing is read from or written to disk; all is gone on exit. The audit \
            log keeps its newest 20,000 to 21,000 records.
            """)
    var ephemeral = false

    /// How many of the newest audit records an `--ephemeral` server keeps at least (up to 1,000 more, dropped a
    /// thousand at a time): each call's record (about 1.6 KB)
    /// would otherwise stay in memory for as long as the server runs (780 MB after 480,000 requests, and 10 %
    /// more CPU per request by then).
    static let ephemeralAuditRetention: Int64 = 20_000
    @Flag(
        help: "Serve the signed CofferDev.Reset call, deleting the caller account's keys (docs/testing-with-coffer.md)."
    )
    var allowReset = false
    @Option(help: "Give the admin principal this access key id (with --secret-access-key) instead of the derived one.")
    var accessKeyId: String?
    @Option(help: "The secret access key for --access-key-id.") var secretAccessKey: String?
    @OptionGroup var upkeep: UpkeepOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "notice"
    @OptionGroup var http: HTTPLimitOptions

    func validate() throws {
        guard HostServe.isAccountID(accountId) else { throw ValidationError("--account-id is 12 digits") }
        guard (accessKeyId == nil) == (secretAccessKey == nil) else {
            throw ValidationError("--access-key-id and --secret-access-key go together")
        }
        if ephemeral, store != nil { throw ValidationError("--ephemeral keeps the store in memory: no --store") }
    }

    func run() async throws {
        // Everything dev mode writes (keys, credentials, the SQLite file and its WAL) is for this user
        // only, from the moment it exists: no file is ever world-readable, even before a chmod.
        umask(0o077)
        var logger = Logger(label: "coffer.dev")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        let seeds = try seed.map {
            try SeedFile.read($0, defaultScope: KeyScope(account: accountId, region: self.region))
        }
        let files: DevFiles? = ephemeral ? nil : DevFiles(root: dataDir)
        try files?.prepare()
        let firstStart = files.map { !FileManager.default.fileExists(atPath: $0.genesis) } ?? true
        // A dev domain made by an older Coffer kept its HSM's identity keys on disk: that HSM re-joins once,
        // then the domain gets a recovery kit and the keys are deleted. Otherwise the HSM is new each start.
        let legacyKeys = firstStart ? nil : try files?.legacyHSMKeys()
        let hsmKeys = legacyKeys ?? HSMKeys.generate()
        let operators = try files?.operatorKeys() ?? DevFiles.operatorNames.map { ($0, P384.Signing.PrivateKey()) }
        let hostKey = try files?.hostKey() ?? P384.Signing.PrivateKey()
        // The admin principal's access key: the one given, or one derived from the dev operators' keys
        // (the same on every start, and written nowhere), or a new one each ephemeral start.
        let admin: (id: String, secret: SecretBytes)
        if let accessKeyId, let secretAccessKey {
            admin = (accessKeyId, SecretBytes(copying: Array(secretAccessKey.utf8)))
        } else if files != nil, let first = operators.first {
            admin = DevFiles.adminKey(from: first.1)
        } else {
            admin = AccessKeySecrets.generate()
        }
        // A credentials.json (written by hand, or by an older Coffer) is imported into the store and
        // removed: secrets are kept by the HSM only. Read before anything is opened, so a bad file stops
        // the start cleanly.
        let imported = try files.flatMap { files in
            FileManager.default.fileExists(atPath: files.credentialsFile)
                ? try CredentialsFile(files.credentialsFile, defaultAccount: accountId) : nil
        }
        if let imported, let temporary = imported.entries.first(where: { $0.sessionToken != nil }) {
            throw CLIError(
                "credentials.json: \(temporary.accessKeyID) has a sessionToken; temporary credentials are served by "
                    + "`coffer host --credentials` only")
        }
        _ = MemoryHygiene.apply()

        let server = HSMServer(core: HSMCore(keys: hsmKeys), logger: logger)
        let channel = try await server.bind(
            .tcp(host: "127.0.0.1", port: 0), group: MultiThreadedEventLoopGroup.singleton)
        guard let hsmPort = channel.localAddress?.port else { throw CLIError("the dev HSM did not bind") }
        let hsmAddress = HSMAddress.tcp(host: "127.0.0.1", port: hsmPort)
        let store: SQLKeyStore
        if let files {
            store = try await StoreLocation.open(
                self.store ?? files.store, legacyScope: KeyScope(account: accountId, region: region), logger: logger)
        } else {
            store = try await SQLKeyStore.openInMemory(auditRetention: Self.ephemeralAuditRetention, logger: logger)
        }
        let connection = try await HSMConnection.connect(to: hsmAddress)
        var current: DomainState
        if firstStart {
            current = try await Self.createDomain(
                connection, hsm: hsmKeys, operators: operators, hostKey: hostKey, store: store, files: files)
        } else if let files {
            let last = try await Self.verifiedChain(store: store, files: files)
            if legacyKeys != nil {
                current = try await Self.rejoin(connection, token: last, operators: operators)
            } else {
                guard files.hasKit, last.state.members.contains(where: { $0.kind == .recovery }) else {
                    throw CLIError(
                        "\(dataDir) has no recovery kit and no HSM identity: the dev domain cannot be brought back")
                }
                current = try await DevRecovery.recover(
                    connection, last: last, operators: operators, store: store, files: files)
            }
        } else {
            throw CLIError("an ephemeral dev server always starts a new domain")
        }
        if let files {
            current = try await DevRecovery.ensureKit(
                connection, state: current, operators: operators, store: store, files: files)
            try files.removeLegacyHSMKeys()
        }
        let state = current
        // `coffer principals --data-dir` uses this HSM while coffer dev runs (written once it serves the domain).
        try files.map { try CLIFiles.write(Array("127.0.0.1:\(hsmPort)".utf8), to: $0.hsmAddressFile) }
        await connection.close()

        let region = self.region
        let account = self.accountId
        let credentialsFile = files?.credentialsFile
        let hint =
            ephemeral
            ? "" : "\nAdd a principal: coffer principals add NAME --data-dir \(dataDir) [--policy FILE] --json"
        let prepare: @Sendable (KMSService) async throws -> String = { kms in
            if let imported, let credentialsFile {
                try await DevPrincipals.importFile(imported, into: kms)
                try FileManager.default.removeItem(atPath: credentialsFile)
                FileHandleOutput.standardError(
                    "coffer dev: imported \(imported.entries.count) credentials of \(credentialsFile) into the store "
                        + "(secrets sealed by the HSM) and removed the file")
            }
            return try await DevPrincipals.ensureAdmin(admin, account: account, in: kms)
        }
        let location = ephemeral ? "in memory only" : "data in \(dataDir)"
        let status = ephemeral ? "ephemeral dev domain" : firstStart ? "new dev domain" : "dev domain restored"
        let warning =
            ephemeral
            ? "  DEV MODE: everything lives in this process's memory and is gone when it stops."
            : "  DEV MODE: \(dataDir) holds the dev operators' keys and the recovery custodians' keys. Not for production."
        let configuration = HostConfiguration(
            host: "127.0.0.1", port: port, hsms: [hsmAddress], hostID: "dev-host", hostKey: hostKey, state: state,
            limits: http.limits, upkeepInterval: upkeep.upkeepInterval,
            domainKeyRotationInterval: upkeep.domainKeyRotationInterval,
            dev: HostConfiguration.Dev(
                seeds: seeds ?? [], allowReset: allowReset, prepare: prepare,
                onShutdown: {
                    // The dev HSM's keys go with the process, as a real HSM's go on SIGTERM.
                    if let file = files?.hsmAddressFile { try? FileManager.default.removeItem(atPath: file) }
                    server.wipe()
                    try? await channel.close()
                },
                // The host reaches its HSM through socket pairs inside this process: a primary and a lane
                // per event loop (the TCP listener stays, for `coffer principals` and the recovery tools).
                hsmConnectors: [hsmAddress: { loop, initializer in server.connectInProcess(on: loop, initializer) }]))
        do {
            try await CofferHost(configuration: configuration, store: store, logger: logger).run {
                bound, credentials in
                let endpoint = "http://127.0.0.1:\(bound)"
                FileHandleOutput.standardOutput(
                    """
                    Coffer dev: the AWS KMS API on \(endpoint) (\(status) at epoch \(state.epoch), \(location))
                    \(warning)
                    Paste into your shell:
                    export \(credentials)AWS_DEFAULT_REGION=\(region) AWS_REGION=\(region) AWS_ENDPOINT_URL_KMS=\(endpoint)\(hint)
                    """)
            }
        } catch {
            server.wipe()
            channel.close(promise: nil)
            throw error
        }
    }

    /// The dev rules: any two of the three dev operators approve any command, and the dev host alone
    /// (operator `dev-host`, role `scheduled-rotation`) approves `domain.rotateKeys`, so it rotates the
    /// domain keys on schedule as a production host does when its operators allow it.
    static var rules: [CommandRule] {
        DomainCommand.ruled.sorted().map { command in
            var alternatives = [Rule([Requirement(role: "dev", minimum: 2)])]
            if command == DomainCommand.rotateKeys {
                alternatives.append(Rule([Requirement(role: rotationRole, minimum: 1)]))
            }
            return CommandRule(command: command, alternatives: alternatives)
        }
    }

    /// The role that pre-authorizes the dev host's scheduled rotation; no other rule names it.
    static let rotationRole = "scheduled-rotation"

    static func createDomain(
        _ connection: HSMConnection, hsm: HSMKeys, operators: [(String, P384.Signing.PrivateKey)],
        hostKey: P384.Signing.PrivateKey,
        store: SQLKeyStore, files: DevFiles?
    ) async throws -> DomainState {
        var random = SystemRandom()
        let identity = try hsm.signedIdentity(challenge: random.bytes(count: 16))
        let create = DomainCreate(
            name: "coffer-dev",
            operators: operators.map { Operator(id: $0.0, signingKey: P384PublicKey($0.1.publicKey), roles: ["dev"]) }
                + [Operator(id: "dev-host", signingKey: P384PublicKey(hostKey.publicKey), roles: [rotationRole])],
            member: MemberAddition(identity: identity, kind: .online),
            hosts: [Host(id: "dev-host", signingKey: P384PublicKey(hostKey.publicKey))], rules: rules,
            parameters: .defaults)
        let command = CommandBuilder.command(.create(create), base: nil, issuedAt: Clock.now, random: &random)
        // domain.create is signed by every operator it lists, the dev host's key included.
        let signed = SignedCommand(
            command: command,
            approvals: try (operators + [("dev-host", hostKey)]).map {
                try CommandBuilder.approve(command, as: $0.0, key: $0.1)
            })
        let token = try await submit(signed, connection)
        try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
        if let files { try CLIFiles.write(Array(Hex.encode(token.state.digest).utf8), to: files.genesis) }
        return token.state
    }

    /// The stored chain, verified from the pinned genesis; its newest token.
    static func verifiedChain(store: SQLKeyStore, files: DevFiles) async throws -> DomainToken {
        let genesisText = String(decoding: try CLIFiles.read(files.genesis), as: UTF8.self)
        guard let genesis = Hex.decode(genesisText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("\(files.genesis) is not a digest")
        }
        let tokens = try await store.domainTokens().map { try DomainToken(derEncoded: $0.der) }
        let states = try TokenVerifier.verifyChain(tokens, genesisDigest: genesis)
        guard let token = tokens.last, states.last == token.state else { throw CLIError("no dev domain token") }
        return token
    }

    /// A dev domain of an older Coffer: its HSM, with the identity keys it kept on disk, joins again.
    static func rejoin(
        _ connection: HSMConnection, token: DomainToken, operators: [(String, P384.Signing.PrivateKey)]
    ) async throws -> DomainState {
        var random = SystemRandom()
        let command = CommandBuilder.command(.join(token), base: nil, issuedAt: Clock.now, random: &random)
        let signed = SignedCommand(
            command: command,
            approvals: try operators.prefix(2).map { try CommandBuilder.approve(command, as: $0.0, key: $0.1) })
        _ = try await submit(signed, connection)
        return token.state
    }

    static func submit(_ signed: SignedCommand, _ connection: HSMConnection) async throws -> DomainToken {
        switch try await connection.request(.command(signed)) {
        case .token(let token): return token
        case .failure(let failure):
            throw CLIError("the dev HSM refused \(signed.command.command): \(failure.code): \(failure.message)")
        default: throw CLIError("the dev HSM answered \(signed.command.command) with another kind")
        }
    }
}

/// The dev data directory: keys (mode 0600), the pinned genesis digest, the SQLite store.
struct DevFiles {
    let root: String
    var store: String { root + "/coffer.sqlite" }
    var genesis: String { root + "/genesis.digest" }
    /// Imported into the store and removed on start, when present.
    var credentialsFile: String { root + "/credentials.json" }

    /// Creates the data directory, or tightens an existing one, to 0700.
    func prepare() throws {
        for folder in [root, root + "/keys"] {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder)
        }
    }

    private func signingKey(_ name: String) throws -> P384.Signing.PrivateKey {
        let path = root + "/keys/\(name).pem"
        if !FileManager.default.fileExists(atPath: path) { try KeyFile.write(P384.Signing.PrivateKey(), to: path) }
        return try KeyFile.readSigningKey(from: path)
    }

    static let operatorNames = ["dev-operator-1", "dev-operator-2", "dev-operator-3"]

    func operatorKeys() throws -> [(String, P384.Signing.PrivateKey)] {
        try Self.operatorNames.map { ($0, try signingKey($0)) }
    }

    func hostKey() throws -> P384.Signing.PrivateKey { try signingKey("dev-host") }

    private var legacySigning: String { root + "/keys/dev-hsm-signing.pem" }
    private var legacyAgreement: String { root + "/keys/dev-hsm-agreement.pem" }

    /// The HSM identity keys a dev domain of an older Coffer kept on disk, if there are any.
    func legacyHSMKeys() throws -> HSMKeys? {
        guard FileManager.default.fileExists(atPath: legacySigning),
            FileManager.default.fileExists(atPath: legacyAgreement)
        else { return nil }
        return HSMKeys(
            signing: try KeyFile.readSigningKey(from: legacySigning),
            agreement: try KeyFile.readAgreementKey(from: legacyAgreement))
    }

    /// Deletes those keys once the domain has a recovery kit.
    func removeLegacyHSMKeys() throws {
        for path in [legacySigning, legacyAgreement] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// The dev recovery kit: its shares, and its custodians' keys (dev mode only; docs/recovery.md).
    var recovery: String { root + "/recovery" }
    func share(_ x: Int) -> String { recovery + "/share-\(x).share" }
    var hasKit: Bool { (1...DevRecovery.threshold).allSatisfy { FileManager.default.fileExists(atPath: share($0)) } }

    /// Custodian `n`'s key, made on first use.
    func custodianKey(_ n: Int) throws -> P384.KeyAgreement.PrivateKey {
        let path = root + "/keys/dev-custodian-\(n).pem"
        if !FileManager.default.fileExists(atPath: path) { try KeyFile.write(P384.KeyAgreement.PrivateKey(), to: path) }
        return try KeyFile.readAgreementKey(from: path)
    }

    /// The dev admin's access key, derived from the first dev operator's private key (HKDF-SHA-256): the
    /// same on every start and never written down; whoever can read the operator key controls the
    /// domain anyway.
    static func adminKey(from operatorKey: P384.Signing.PrivateKey) -> (id: String, secret: SecretBytes) {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: operatorKey.rawRepresentation),
            info: Array("coffer dev admin access key".utf8), outputByteCount: 46)
        return AccessKeySecrets.make(from: SecretBytes(derived))
    }
}
