import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
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
            change), a host key, credentials, and an HSM that the three operators make the domain's member. Later \
            starts bring the same domain back: the HSM re-joins it with a domain.join that two of the dev \
            operators sign, so every key created before still works.

            DEV MODE ONLY: the data directory holds the operators' private keys and the HSM's identity keys, so \
            anyone who can read it controls the domain. A production HSM keeps its keys in memory only and real \
            operators keep theirs offline (docs/operators.md, docs/deployment.md).
            """)

    @Option(help: "The port of the KMS API endpoint on 127.0.0.1.") var port: Int = 4599
    @Option(help: "Where dev mode keeps its database, keys and credentials.") var dataDir: String = "./.coffer"
    @Option(help: "The region clients are told to use.") var region: String = "us-east-1"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "notice"

    func run() async throws {
        var logger = Logger(label: "coffer.dev")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        let files = DevFiles(root: dataDir)
        try files.prepare()
        let firstStart = !FileManager.default.fileExists(atPath: files.genesis)
        let hsmKeys = try files.hsmKeys()
        let operators = try files.operatorKeys()
        let hostKey = try files.hostKey()
        let credentials = try files.credentials()
        _ = MemoryHygiene.apply()

        let server = HSMServer(core: HSMCore(keys: hsmKeys), logger: logger)
        let channel = try await server.bind(
            .tcp(host: "127.0.0.1", port: 0), group: MultiThreadedEventLoopGroup.singleton)
        guard let hsmPort = channel.localAddress?.port else { throw CLIError("the dev HSM did not bind") }
        let hsmAddress = HSMAddress.tcp(host: "127.0.0.1", port: hsmPort)
        let store = try await SQLiteKeyStore.open(path: files.store, logger: logger)
        let connection = try await HSMConnection.connect(to: hsmAddress)
        let state: DomainState
        if firstStart {
            state = try await Self.createDomain(
                connection, hsm: hsmKeys, operators: operators, hostKey: hostKey, store: store, files: files)
        } else {
            state = try await Self.rejoin(connection, operators: operators, store: store, files: files)
        }
        await connection.close()

        let endpoint = "http://127.0.0.1:\(port)"
        let accessKey = credentials.accessKey
        let secret = credentials.secret
        let region = self.region
        let dataDir = self.dataDir
        try await HostRuntime.serve(
            host: "127.0.0.1", port: port, hsms: [hsmAddress], hostID: "dev-host", hostKey: hostKey, state: state,
            store: store,
            credentials: [accessKey: .init(secret: SecretBytes(copying: Array(secret.utf8)))], account: "000000000000",
            logger: logger
        ) { bound in
            """
            Coffer dev: the AWS KMS API on http://127.0.0.1:\(bound) (\(firstStart ? "new dev domain" : "dev domain restored") \
            at epoch \(state.epoch), data in \(dataDir))
              DEV MODE: \(dataDir) holds the dev operators' keys and the HSM's identity keys. Not for production.
            Paste into your shell:
            export AWS_ACCESS_KEY_ID=\(accessKey) AWS_SECRET_ACCESS_KEY=\(secret) AWS_DEFAULT_REGION=\(region) AWS_REGION=\(region) AWS_ENDPOINT_URL_KMS=\(endpoint)
            """
        }
        server.wipe()
        channel.close(promise: nil)
    }

    /// The dev rules: any two of the three dev operators approve any command.
    static var rules: [CommandRule] {
        DomainCommand.ruled.sorted().map {
            CommandRule(command: $0, alternatives: [Rule([Requirement(role: "dev", minimum: 2)])])
        }
    }

    static func createDomain(
        _ connection: HSMConnection, hsm: HSMKeys, operators: [(String, P384.Signing.PrivateKey)],
        hostKey: P384.Signing.PrivateKey,
        store: SQLiteKeyStore, files: DevFiles
    ) async throws -> DomainState {
        var random = SystemRandom()
        let identity = try hsm.signedIdentity(challenge: random.bytes(count: 16))
        let create = DomainCreate(
            name: "coffer-dev",
            operators: operators.map { Operator(id: $0.0, signingKey: P384PublicKey($0.1.publicKey), roles: ["dev"]) },
            member: MemberAddition(identity: identity, kind: .online),
            hosts: [Host(id: "dev-host", signingKey: P384PublicKey(hostKey.publicKey))], rules: rules,
            parameters: .defaults)
        let command = CommandBuilder.command(.create(create), base: nil, issuedAt: Clock.now, random: &random)
        let signed = SignedCommand(
            command: command, approvals: try operators.map { try CommandBuilder.approve(command, as: $0.0, key: $0.1) })
        let token = try await submit(signed, connection)
        try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
        try CLIFiles.write(Array(Hex.encode(token.state.digest).utf8), to: files.genesis)
        return token.state
    }

    static func rejoin(
        _ connection: HSMConnection, operators: [(String, P384.Signing.PrivateKey)], store: SQLiteKeyStore,
        files: DevFiles
    ) async throws -> DomainState {
        let genesisText = String(decoding: try CLIFiles.read(files.genesis), as: UTF8.self)
        guard let genesis = Hex.decode(genesisText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("\(files.genesis) is not a digest")
        }
        let tokens = try await store.domainTokens().map { try DomainToken(derEncoded: $0.der) }
        let states = try TokenVerifier.verifyChain(tokens, genesisDigest: genesis)
        guard let token = tokens.last, states.last == token.state else { throw CLIError("no dev domain token") }
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

/// The dev data directory: keys (mode 0600), credentials, the pinned genesis digest, the SQLite store.
struct DevFiles {
    let root: String
    var store: String { root + "/coffer.sqlite" }
    var genesis: String { root + "/genesis.digest" }
    private var credentialsFile: String { root + "/credentials.json" }

    func prepare() throws {
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(
            atPath: root + "/keys", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    private func signingKey(_ name: String) throws -> P384.Signing.PrivateKey {
        let path = root + "/keys/\(name).pem"
        if !FileManager.default.fileExists(atPath: path) { try KeyFile.write(P384.Signing.PrivateKey(), to: path) }
        return try KeyFile.readSigningKey(from: path)
    }

    func operatorKeys() throws -> [(String, P384.Signing.PrivateKey)] {
        try ["dev-operator-1", "dev-operator-2", "dev-operator-3"].map { ($0, try signingKey($0)) }
    }

    func hostKey() throws -> P384.Signing.PrivateKey { try signingKey("dev-host") }

    /// Dev mode only: the HSM's identity keys on disk, so a restarted dev HSM is the same member.
    func hsmKeys() throws -> HSMKeys {
        let agreement = root + "/keys/dev-hsm-agreement.pem"
        if !FileManager.default.fileExists(atPath: agreement) {
            try KeyFile.write(P384.KeyAgreement.PrivateKey(), to: agreement)
        }
        return HSMKeys(
            signing: try signingKey("dev-hsm-signing"), agreement: try KeyFile.readAgreementKey(from: agreement))
    }

    func credentials() throws -> (accessKey: String, secret: String) {
        if let data = FileManager.default.contents(atPath: credentialsFile),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["credentials"] as? [[String: Any]], let first = list.first,
            let id = first["accessKeyId"] as? String, let secret = first["secretAccessKey"] as? String
        {
            return (id, secret)
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let random = SecretBytes.random(count: 46).withUnsafeBytes { Array($0) }
        let id = "AKIA" + String(random.prefix(16).map { alphabet[Int($0) % alphabet.count] })
        let secret = Data(random.suffix(30)).base64EncodedString()
        let json = #"{"credentials": [{"accessKeyId": "\#(id)", "secretAccessKey": "\#(secret)"}]}"#
        guard
            FileManager.default.createFile(
                atPath: credentialsFile, contents: Data(json.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CLIError("cannot write \(credentialsFile)") }
        return (id, secret)
    }
}
