import CofferCrypto
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
import Metrics
import NIOSSL

/// The serving part of a service host, shared by `coffer host` and `coffer dev`.
enum HostRuntime {
    /// Seconds between upkeep rounds (`--upkeep-interval`).
    static let defaultUpkeepInterval = 30

    /// What `coffer dev` adds: keys to seed before serving, and the reset call.
    struct DevOptions {
        /// Seeded before the endpoint opens.
        var seeds: [KeySeed] = []
        /// Whether the signed `CofferDev.Reset` call is served.
        var allowReset = false
        /// Runs before the endpoint opens (the admin principal, imported credentials); its answer is the
        /// banner's credentials part.
        var prepare: (@Sendable (KMSService) async throws -> String)?
    }

    static func serve(
        host: String, port: Int, tls: TLSConfiguration? = nil, hsms: [HSMAddress], hostID: String,
        hostKey: P384.Signing.PrivateKey, state: DomainState, store: SQLKeyStore,
        credentials: [String: SigV4Verifier.Credentials],
        regions: KMSEndpoint.Regions, limits: HTTPLimits, upkeepInterval: Int = defaultUpkeepInterval,
        dev: DevOptions? = nil, logger: Logger, banner: @escaping @Sendable (Int, String) -> String
    ) async throws {
        let registry = HostProbes.registry  // bootstraps swift-metrics before any metric is made
        let pool = HSMPool(addresses: hsms, hostID: hostID, hostKey: hostKey, domain: state, clock: { Clock.now })
        // Every request is authorized by the key's policy and the caller's identity policies (AWS's rules).
        let authorizer = PolicyAuthorizer(clock: { Clock.now.secondsSinceEpoch })
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
        let prepared: String
        do {
            prepared = try await dev?.prepare?(kms) ?? ""
        } catch {
            await pool.close()
            await store.close()
            throw error
        }
        // Callers: the fixed credentials given, else the store's principals, whose secrets only HSMs hold.
        let directory = PrincipalDirectory(kms: kms, logger: logger)
        let verifier = SigV4Verifier(service: "kms") { (id: String, day: String) async throws(SigV4Error) in
            if let fixed = credentials[id] { return fixed }
            let caller: AuthenticatedCaller?
            do throws(KMSError) {
                caller = try await directory.caller(accessKeyID: id, day: day)
            } catch {
                logger.error("cannot look a caller up", metadata: ["error": "\(error.code)"])
                throw SigV4Error(.unavailable, "The caller's credentials could not be checked; try again.")
            }
            return caller.map {
                SigV4Verifier.Credentials(
                    key: .dateKey($0.dateKey), account: $0.account, principal: $0.principal,
                    identityPolicies: $0.identityPolicies)
            }
        }
        var reset: (@Sendable ([UInt8], CofferKMS.RequestContext) async throws(KMSError) -> Void)?
        if let dev, dev.allowReset {
            let seeds = dev.seeds
            // A reset empties the caller's own account only; a reseed brings back that account's seeds.
            reset = { (body: [UInt8], context: CofferKMS.RequestContext) async throws(KMSError) in
                // No key policy stands between a reset and every key: only the account root, or a principal
                // whose identity policies let it delete every key of the account, may wipe it.
                guard Self.mayReset(context) else {
                    throw KMSError(
                        .accessDenied,
                        "User: \(context.principal) is not authorized to perform: CofferDev.Reset (the account root, "
                            + "or a principal allowed kms:ScheduleKeyDeletion on every key)")
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
        let rewrap = RewrapJob(kms: kms, logger: logger)
        let scheduler = Task {
            while !Task.isCancelled {
                _ = await pool.healthCheck()
                await Self.keepDomainChain(pool: pool, store: store, logger: logger)
                Gauge(label: "coffer_domain_epoch").record(await pool.domainState.epoch)
                do throws(KMSError) {
                    try await rewrap.runIfDue(state: await pool.domainState, now: Clock.now.secondsSinceEpoch)
                } catch {
                    logger.error("the re-wrap pass failed", metadata: ["error": "\(error.code)"])
                }
                if let work = try? await kms.runScheduledWork(), !(work.deleted.isEmpty && work.rotated.isEmpty) {
                    logger.notice(
                        "scheduled work",
                        metadata: ["deleted": "\(work.deleted.count)", "rotated": "\(work.rotated.count)"])
                }
                try? await Task.sleep(for: .seconds(upkeepInterval))
            }
        }
        let app = try KMSHTTPServer.application(
            endpoint: endpoint, host: host, port: port, tls: tls, limits: limits,
            probes: HostProbes.probes(pool: pool, store: store, registry: registry), logger: logger
        ) {
            bound in
            FileHandle.standardOutput.write(Data((banner(bound, prepared) + "\n").utf8))
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

    /// Appends the domain tokens the pool adopted from its HSMs to the store's chain, so that the host
    /// (and every host of the store) starts from the newest verified state.
    static func keepDomainChain(pool: HSMPool, store: any KeyStore, logger: Logger) async {
        for token in await pool.takeAdoptedTokens() {
            do throws(StoreError) {
                try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
                logger.notice("adopted a newer domain state", metadata: ["epoch": "\(token.state.epoch)"])
            } catch  where error.code == .alreadyExists {
                continue
            } catch {
                logger.error("cannot store a domain token", metadata: ["epoch": "\(token.state.epoch)"])
            }
        }
    }

    /// Whether the caller may reset its account (`CofferDev.Reset`): the root, or a principal whose
    /// identity policies allow `kms:ScheduleKeyDeletion` on `key/*` of the account and region.
    static func mayReset(_ context: CofferKMS.RequestContext) -> Bool {
        if context.principal == "arn:aws:iam::\(context.account):root" { return true }
        let request = AuthorizationRequest(
            action: "kms:ScheduleKeyDeletion", principal: context.principal, account: context.account,
            resource: "arn:aws:kms:\(context.region):\(context.account):key/*", conditionKeys: [:])
        return PolicyEvaluator.evaluate(request, keyPolicy: nil, identityPolicies: context.identityPolicies).isAllowed
    }
}
