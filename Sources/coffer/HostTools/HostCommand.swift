import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferHost
import CofferJSON
import CofferKMS
import CofferPolicy
import CofferServer
import CofferStore
import CofferWire
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOSSL

/// `coffer host`: a service host (`serve`, the default) and what it keeps (`status`).
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Serve the AWS KMS API in front of a domain's HSMs (serve), or show a store's state (status).",
        subcommands: [HostServe.self, HostStatus.self], defaultSubcommand: HostServe.self)
}

/// `coffer host serve` (also `coffer host`): a service host serving the AWS KMS API.
struct HostServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the AWS KMS API in front of a domain's HSMs.",
        discussion: """
            The host verifies the domain's history from the pinned genesis digest (the tokens given with --token \
            and those already in its store), keeps key metadata and backing-key tokens (ciphertext only) in its \
            store (SQLite, or PostgreSQL for several hosts), authenticates callers with SigV4 (the store's principals, `coffer principals`, and any \
            --credentials file), and does every cryptographic \
            operation on an HSM over a mutually authenticated session. Keys, aliases and tags live in the \
            caller's account (its credential's accountId, else --account-id) and the region its request was \
            signed for. Its id and key must be in the domain \
            (domain.create --add-host or domain.modifyHosts). With --tls-cert and --tls-key it serves HTTPS.
            """)

    @Option(help: "Where to serve the KMS API (HOST:PORT).") var listen: String = "127.0.0.1:4599"
    @Option(help: "An HSM of the domain (repeat).") var hsm: [String]
    @Option(help: "This host's id in the domain.") var hostID: String
    @Option(help: "This host's private key file.") var hostKey: String
    @Option(help: "The domain's genesis state digest (hex), pinned out of band.") var genesis: String
    @Option(help: "Domain tokens in epoch order (repeat); those already stored need not be given again.") var token:
        [String] = []
    @Option(
        help: """
            The store: a SQLite file, or a PostgreSQL database shared by several hosts, \
            postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require] (its schema is created on \
            first use).
            """)
    var store: String = "coffer.sqlite"
    @Option(
        help: """
            A credentials file of fixed callers besides the store's principals (`coffer principals`): \
            {"credentials":[{"accessKeyId":…,"secretAccessKey":…}]}.
            """)
    var credentials: String?
    @Option(help: "The AWS account id of callers whose credentials name none (ARNs, key namespaces).")
    var accountId: String = "000000000000"
    @Option(
        help: """
            The one region this host serves; requests signed for another are refused as AWS refuses them \
            (InvalidSignatureException). Without it, every region is served, each its own namespace.
            """)
    var region: String?
    @Option(help: "TLS certificate chain (PEM); serve HTTPS.") var tlsCert: String?
    @Option(help: "TLS private key (PEM) for --tls-cert.") var tlsKey: String?
    @Flag(help: "Serve plain HTTP on an address other than loopback (only behind a TLS-terminating proxy).")
    var insecureHttp = false
    @OptionGroup var http: HTTPLimitOptions
    @OptionGroup var upkeep: UpkeepOptions

    func validate() throws {
        guard let (host, _) = Self.hostPort(listen) else { throw ValidationError("--listen: expected HOST:PORT") }
        if tlsCert == nil, !insecureHttp, !Self.isLoopback(host) {
            throw ValidationError(
                "--listen \(listen) is not a loopback address: serve HTTPS (--tls-cert, --tls-key), or say "
                    + "--insecure-http when a TLS-terminating proxy sits in front (SigV4 protects integrity, "
                    + "not the plaintexts and data keys in the responses)")
        }
    }

    /// 127.0.0.0/8, ::1 and localhost: plain HTTP there never leaves the machine.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func run() async throws {
        // The store and its WAL hold key tokens and policies: this user's only, from creation.
        umask(0o077)
        var logger = Logger(label: "coffer.host")
        logger.logLevel = .info
        guard let (host, port) = Self.hostPort(listen) else { throw ValidationError("--listen: expected HOST:PORT") }
        let addresses = try hsm.map { text in
            guard let address = HSMAddress(text) else {
                throw ValidationError("--hsm \(text): expected HOST:PORT or unix:/path")
            }
            return address
        }
        guard let genesisDigest = Hex.decode(genesis), genesisDigest.count == 48 else {
            throw ValidationError("--genesis is the 48-byte genesis state digest in hex")
        }
        guard Self.isAccountID(accountId) else { throw ValidationError("--account-id is 12 digits") }
        // Read before the store is opened, so a bad file stops the start cleanly.
        let callers =
            try credentials.map { try CredentialsFile($0, defaultAccount: accountId).verifierCredentials } ?? [:]
        let given = try token.map { try CLIFiles.decode(DomainToken.self, from: $0) }
        let signingKey = try CLIFiles.signingKey(hostKey)
        let keyStore = try await StoreLocation.open(
            store, legacyScope: KeyScope(account: accountId, region: region ?? "us-east-1"), logger: logger)
        let state: DomainState
        do {
            state = try await DomainChain.verifiedState(store: keyStore, genesis: genesisDigest, given: given)
        } catch {
            await keyStore.close()
            throw error
        }
        guard state.hosts.contains(where: { $0.id == hostID && $0.signingKey == P384PublicKey(signingKey.publicKey) })
        else {
            await keyStore.close()
            throw CLIError("host \(hostID) with this key is not a host of the domain at epoch \(state.epoch)")
        }
        let tls: TLSConfiguration?
        switch (tlsCert, tlsKey) {
        case (nil, nil): tls = nil
        case (let cert?, let key?):
            do {
                tls = try KMSHTTPServer.tlsConfiguration(certificateChain: cert, privateKey: key)
            } catch {
                await keyStore.close()
                throw CLIError("cannot load the TLS certificate or key: \(error)")
            }
        default:
            await keyStore.close()
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        let scheme = tls == nil ? "http" : "https"
        let configuration = HostConfiguration(
            host: host, port: port, tls: tls, hsms: addresses, hostID: hostID, hostKey: signingKey, state: state,
            credentials: callers, regions: region.map { .only($0) } ?? .all, limits: http.limits,
            upkeepInterval: upkeep.upkeepInterval, domainKeyRotationInterval: upkeep.domainKeyRotationInterval)
        let id = hostID
        try await CofferHost(configuration: configuration, store: keyStore, logger: logger).run { bound, _ in
            FileHandleOutput.standardOutput(
                "coffer host \(id) serving the KMS API on \(scheme)://\(host):\(bound) (domain epoch \(state.epoch))")
        }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard case .tcp(let host, let port)? = HSMAddress(text) else { return nil }
        return (host, port)
    }

    static func isAccountID(_ text: String) -> Bool {
        text.count == 12 && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber)
    }
}
