import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferHost
import CofferKMS
import CofferStore
import CofferWire
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Where `coffer principals` works: coffer dev's data directory, or a host's store and its HSMs.
struct StoreAccess: ParsableArguments {
    @Option(help: "A coffer dev data directory.") var dataDir: String = "./.coffer"
    @Option(
        help: """
            A host's store (coffer host --store: a SQLite file or postgres://…); with --hsm, --host-id, --host-key, \
            --genesis.
            """)
    var store: String?
    @Option(help: "An HSM of the domain (repeat).") var hsm: [String] = []
    @Option(help: "The host id to open HSM sessions as.") var hostID: String?
    @Option(help: "That host's private key file.") var hostKey: String?
    @Option(help: "The domain's genesis state digest (hex).") var genesis: String?

    private var storePath: String { store ?? dataDir + "/coffer.sqlite" }

    /// Runs `body` over the store alone (no secret is sealed or opened).
    func withStore(_ body: (KMSService) async throws -> Void) async throws {
        let keyStore = try await open()
        do {
            try await run(body, KMSService(store: keyStore, hsm: NoHSM(), clock: { Clock.now.secondsSinceEpoch }))
        } catch {
            await keyStore.close()
            throw error
        }
        await keyStore.close()
    }

    /// Runs `body` over the store and an HSM session of the domain, to seal new secrets.
    func withService(_ body: (KMSService) async throws -> Void) async throws {
        umask(0o077)
        let keyStore = try await open()
        do {
            try await withSession(keyStore, body)
        } catch {
            await keyStore.close()
            throw error
        }
        await keyStore.close()
    }

    private func withSession(_ keyStore: SQLKeyStore, _ body: (KMSService) async throws -> Void) async throws {
        if store != nil {
            guard !hsm.isEmpty, let hostID, let hostKey, let genesis else {
                throw ValidationError(
                    "with --store, give --hsm, --host-id, --host-key and --genesis as for coffer host")
            }
            let addresses = try hsm.map { text in
                guard let address = HSMAddress(text) else { throw ValidationError("--hsm \(text): expected HOST:PORT") }
                return address
            }
            guard let digest = Hex.decode(genesis), digest.count == 48 else {
                throw ValidationError("--genesis is the 48-byte genesis state digest in hex")
            }
            let state = try await DomainChain.verifiedState(store: keyStore, genesis: digest)
            let pool = HSMPool(
                addresses: addresses, hostID: hostID, hostKey: try CLIFiles.signingKey(hostKey), domain: state,
                clock: { Clock.now })
            return try await run(body, keyStore, pool)
        }
        // Dev mode: the running coffer dev's HSM when it answers as a member of the domain; otherwise an HSM in
        // this process brings the dev domain back as coffer dev does on start (docs/recovery.md).
        let files = DevFiles(root: dataDir)
        let last = try await Dev.verifiedChain(store: keyStore, files: files)
        switch await files.runningHSM(domain: last.state) {
        case .running(let running):
            let pool = HSMPool(
                addresses: [running], hostID: "dev-host", hostKey: try files.hostKey(), domain: last.state,
                clock: { Clock.now })
            return try await run(body, keyStore, pool)
        case .busy:
            throw CLIError("coffer dev is starting (its HSM is not serving the domain yet): try again in a moment")
        case .absent:
            break
        }
        var logger = Logger(label: "coffer.principals")
        logger.logLevel = .warning
        // A data directory of an older Coffer, not started since, still has its HSM's identity keys.
        let legacy = try files.legacyHSMKeys()
        let server = HSMServer(core: HSMCore(keys: legacy ?? .generate()), logger: logger)
        let channel = try await server.bind(
            .tcp(host: "127.0.0.1", port: 0), group: MultiThreadedEventLoopGroup.singleton)
        defer {
            server.wipe()
            channel.close(promise: nil)
        }
        guard let port = channel.localAddress?.port else { throw CLIError("the HSM did not bind") }
        let address = HSMAddress.tcp(host: "127.0.0.1", port: port)
        let connection = try await HSMConnection.connect(to: address)
        let state: DomainState
        if legacy != nil {
            state = try await Dev.rejoin(connection, token: last, operators: try files.operatorKeys())
        } else {
            state = try await DevRecovery.recover(
                connection, last: last, operators: try files.operatorKeys(), store: keyStore, files: files)
        }
        await connection.close()
        let pool = HSMPool(
            addresses: [address], hostID: "dev-host", hostKey: try files.hostKey(), domain: state, clock: { Clock.now })
        try await run(body, keyStore, pool)
    }

    /// Runs `body` over the store and `pool`, closing the pool however it ends.
    private func run(
        _ body: (KMSService) async throws -> Void, _ keyStore: SQLKeyStore, _ pool: HSMPool
    ) async throws {
        do {
            try await run(body, KMSService(store: keyStore, hsm: pool, clock: { Clock.now.secondsSinceEpoch }))
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    private func run(_ body: (KMSService) async throws -> Void, _ kms: KMSService) async throws {
        do {
            try await body(kms)
        } catch let error as KMSError {
            throw CLIError("\(error.code.awsName): \(error.message)")
        }
    }

    private func open() async throws -> SQLKeyStore {
        if store == nil, !FileManager.default.fileExists(atPath: DevFiles(root: dataDir).genesis) {
            throw CLIError("no coffer dev data directory at \(dataDir): start coffer dev first, or give --store")
        }
        return try await StoreLocation.openExisting(storePath)
    }
}

/// No HSM: for the commands that only read or delete (`list`, `remove`).
private struct NoHSM: CryptoBackend {
    func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult {
        throw HSMClientError(.unavailable, "no HSM is open for this command")
    }
}
