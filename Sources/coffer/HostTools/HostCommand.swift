import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSMClient
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

/// `coffer host`: a service host serving the AWS KMS API.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Serve the AWS KMS API in front of a domain's HSMs.",
        discussion: """
            The host verifies the domain's history from the pinned genesis digest (the tokens given with --token \
            and those already in its store), keeps key metadata and backing-key tokens (ciphertext only) in its \
            SQLite store, authenticates callers with SigV4 against --credentials, and does every cryptographic \
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
    @Option(help: "The SQLite store file.") var store: String = "coffer.sqlite"
    @Option(help: "Credentials file: {\"credentials\":[{\"accessKeyId\":…,\"secretAccessKey\":…}]}.") var credentials:
        String
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
        let callers = try Self.loadCredentials(credentials, defaultAccount: accountId)
        let identityPolicies = try Self.loadIdentityPolicies(credentials, defaultAccount: accountId)
        let keyStore = try await SQLiteKeyStore.open(
            path: store, legacyScope: KeyScope(account: accountId, region: region ?? "us-east-1"), logger: logger)
        let state = try await Self.verifiedState(store: keyStore, genesis: genesisDigest, files: token)
        let signingKey = try CLIFiles.signingKey(hostKey)
        guard state.hosts.contains(where: { $0.id == hostID && $0.signingKey == P384PublicKey(signingKey.publicKey) })
        else {
            throw CLIError("host \(hostID) with this key is not a host of the domain at epoch \(state.epoch)")
        }
        let tls: TLSConfiguration?
        switch (tlsCert, tlsKey) {
        case (nil, nil): tls = nil
        case (let cert?, let key?):
            do {
                tls = try KMSHTTPServer.tlsConfiguration(certificateChain: cert, privateKey: key)
            } catch {
                throw CLIError("cannot load the TLS certificate or key: \(error)")
            }
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }
        let scheme = tls == nil ? "http" : "https"
        try await HostRuntime.serve(
            host: host, port: port, tls: tls, hsms: addresses, hostID: hostID, hostKey: signingKey, state: state,
            store: keyStore, credentials: callers, identityPolicies: identityPolicies,
            regions: region.map { .only($0) } ?? .all, limits: http.limits,
            logger: logger
        ) { bound in
            "coffer host \(hostID) serving the KMS API on \(scheme)://\(host):\(bound) (domain epoch \(state.epoch))"
        }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard case .tcp(let host, let port)? = HSMAddress(text) else { return nil }
        return (host, port)
    }

    /// The verified current state: the chain of stored and given tokens from the pinned genesis.
    static func verifiedState(store: SQLiteKeyStore, genesis: [UInt8], files: [String]) async throws -> DomainState {
        var byEpoch: [Int64: DomainToken] = [:]
        for stored in try await store.domainTokens() {
            byEpoch[stored.epoch] = try DomainToken(derEncoded: stored.der)
        }
        for file in files {
            let token = try CLIFiles.decode(DomainToken.self, from: file)
            byEpoch[token.state.epoch] = token
        }
        let chain = byEpoch.keys.sorted().compactMap { byEpoch[$0] }
        guard !chain.isEmpty else { throw CLIError("no domain tokens: give the chain with --token, genesis first") }
        let states: [DomainState]
        do {
            states = try TokenVerifier.verifyChain(chain, genesisDigest: genesis)
        } catch {
            throw CLIError("the domain's tokens do not verify from the pinned genesis: \(error.code): \(error.message)")
        }
        let stored = Set(try await store.domainTokens().map(\.epoch))
        for token in chain where !stored.contains(token.state.epoch) {
            try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
        }
        guard let last = states.last else { throw CLIError("no state") }
        return last
    }

    static func isAccountID(_ text: String) -> Bool {
        text.count == 12 && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber)
    }

    /// The credentials file: `{"credentials": [{"accessKeyId", "secretAccessKey", "accountId"?, "principal"?,
    /// "sessionToken"?}]}`; a credential without an account belongs to `defaultAccount`.
    static func loadCredentials(
        _ path: String, defaultAccount: String
    ) throws -> [String: SigV4Verifier.Credentials] {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            FileHandleOutput.standardError(
                "warning: \(path) is readable by group or others; it holds secret access keys")
        }
        let data = Data(try CLIFiles.read(path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["credentials"] as? [[String: Any]]
        else { throw CLIError("\(path): expected {\"credentials\": [{\"accessKeyId\": …, \"secretAccessKey\": …}]}") }
        var out: [String: SigV4Verifier.Credentials] = [:]
        for entry in list {
            guard let id = entry["accessKeyId"] as? String, let secret = entry["secretAccessKey"] as? String else {
                throw CLIError("\(path): every credential has accessKeyId and secretAccessKey")
            }
            let account = entry["accountId"] as? String ?? defaultAccount
            guard isAccountID(account) else { throw CLIError("\(path): accountId of \(id) is not 12 digits") }
            out[id] = .init(
                secret: SecretBytes(copying: Array(secret.utf8)), sessionToken: entry["sessionToken"] as? String,
                account: account, principal: entry["principal"] as? String)
        }
        return out
    }

    /// The identity policies of the credentials file: each credential's `policy` (an IAM policy object, or
    /// its JSON text) belongs to its principal (the account root when none is given, which needs none).
    static func loadIdentityPolicies(
        _ path: String, defaultAccount: String
    ) throws -> [String: [PolicyDocument]] {
        let data = Data(try CLIFiles.read(path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["credentials"] as? [[String: Any]]
        else { return [:] }
        var policies: [String: [PolicyDocument]] = [:]
        for entry in list {
            guard let policy = entry["policy"] else { continue }
            let account = entry["accountId"] as? String ?? defaultAccount
            let principal = entry["principal"] as? String ?? "arn:aws:iam::\(account):root"
            let text: String
            if let string = policy as? String {
                text = string
            } else if JSONSerialization.isValidJSONObject(policy),
                let json = try? JSONSerialization.data(withJSONObject: policy)
            {
                text = String(decoding: json, as: UTF8.self)
            } else {
                throw CLIError("\(path): the policy of \(principal) is not a JSON object")
            }
            let document: PolicyDocument
            do {
                document = try PolicyDocument(json: text, kind: .identityPolicy)
            } catch {
                throw CLIError("\(path): the policy of \(principal) is not valid: \(error.message)")
            }
            if let problem = SupportedConditionKeys.problem(in: document) {
                throw CLIError("\(path): the policy of \(principal) is not valid: \(problem)")
            }
            let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 6, parts[4] == account else {
                throw CLIError("\(path): the principal \(principal) is not of the account \(account)")
            }
            policies[principal, default: []].append(document)
        }
        return policies
    }
}

/// The serving part of a service host, shared by `coffer host` and `coffer dev`.
enum HostRuntime {
    /// What `coffer dev` adds: keys to seed before serving, and the reset call.
    struct DevOptions {
        /// Seeded before the endpoint opens.
        var seeds: [KeySeed] = []
        /// Whether the signed `CofferDev.Reset` call is served.
        var allowReset = false
    }

    static func serve(
        host: String, port: Int, tls: TLSConfiguration? = nil, hsms: [HSMAddress], hostID: String,
        hostKey: P384.Signing.PrivateKey, state: DomainState, store: SQLiteKeyStore,
        credentials: [String: SigV4Verifier.Credentials], identityPolicies: [String: [PolicyDocument]] = [:],
        regions: KMSEndpoint.Regions, limits: HTTPLimits,
        dev: DevOptions? = nil, logger: Logger, banner: @escaping @Sendable (Int) -> String
    ) async throws {
        let pool = HSMPool(addresses: hsms, hostID: hostID, hostKey: hostKey, domain: state, clock: { Clock.now })
        // Every request is authorized by the key's policy and the caller's identity policies (AWS's rules).
        let authorizer = PolicyAuthorizer(identityPolicies: identityPolicies, clock: { Clock.now.secondsSinceEpoch })
        // Every call is recorded in the store's hash-chained audit log (`coffer audit`).
        let audit = StoreAudit(store: store, clock: { Clock.now.secondsSinceEpoch }, logger: logger)
        let kms = KMSService(
            store: store, hsm: pool, clock: { Clock.now.secondsSinceEpoch }, authorizer: authorizer, audit: audit)
        if let seeds = dev?.seeds, !seeds.isEmpty {
            do {
                let ids = try await kms.seed(seeds)
                logger.notice("seeded", metadata: ["keys": "\(ids.count)"])
            } catch {
                await pool.close()
                await store.close()
                throw CLIError("cannot seed: \(error.message)")
            }
        }
        let verifier = SigV4Verifier(service: "kms") { credentials[$0] }
        var reset: (@Sendable ([UInt8], CofferKMS.RequestContext) async throws(KMSError) -> Void)?
        if let dev, dev.allowReset {
            let seeds = dev.seeds
            // A reset empties the caller's own account only; a reseed brings back that account's seeds.
            reset = { (body: [UInt8], context: CofferKMS.RequestContext) async throws(KMSError) in
                // Only the account root may wipe its account: no key policy stands between a reset and
                // every key.
                guard context.principal == "arn:aws:iam::\(context.account):root" else {
                    throw KMSError(
                        .accessDenied,
                        "User: \(context.principal) is not authorized to perform: CofferDev.Reset (the account root only)"
                    )
                }
                try await kms.removeAllKeys(of: context.account)
                var reseeded = 0
                if case .object(let object)? = try? JSONReader.read(body), case .bool(true)? = object["Reseed"] {
                    reseeded = try await kms.seed(seeds.filter { $0.scope.account == context.account }).count
                }
                logger.notice(
                    "reset", metadata: ["account": "\(context.account)", "reseeded": "\(reseeded)"])
            }
        }
        let endpoint = KMSEndpoint(
            kms: kms, verifier: verifier, regions: regions, reset: reset, logger: logger,
            clock: { Clock.now.secondsSinceEpoch }, secureTransport: tls != nil)
        let scheduler = Task {
            while !Task.isCancelled {
                _ = await pool.healthCheck()
                if let work = try? await kms.runScheduledWork(), !(work.deleted.isEmpty && work.rotated.isEmpty) {
                    logger.notice(
                        "scheduled work",
                        metadata: ["deleted": "\(work.deleted.count)", "rotated": "\(work.rotated.count)"])
                }
                try? await Task.sleep(for: .seconds(30))
            }
        }
        let app = try KMSHTTPServer.application(
            endpoint: endpoint, host: host, port: port, tls: tls, limits: limits, logger: logger
        ) {
            bound in
            FileHandle.standardOutput.write(Data((banner(bound) + "\n").utf8))
        }
        defer { scheduler.cancel() }
        do {
            try await app.runService()
        } catch {
            await pool.close()
            await store.close()
            throw error
        }
        await pool.close()
        await store.close()
    }
}
