import CofferDomain
import CofferHSMClient
import CofferJSON
import CofferKMS
import CofferPolicy
import CofferServer
import CofferStore
import CofferWire
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// A service host (DESIGN.md, `CofferHost`): the HSM pool, the KMS service, the upkeep rounds and the
/// HTTP endpoint as services of one swift-service-lifecycle `ServiceGroup`, over any ``KeyStore``.
/// SIGTERM or SIGINT (or ``shutdown()``) shuts it down gracefully, in the reverse order of starting: the
/// endpoint stops accepting and finishes the requests it has, the upkeep round ends, then the HSM
/// sessions are closed (dev mode wipes its in-process HSM) and the store last.
public final class CofferHost: Sendable {
    private let configuration: HostConfiguration
    private let store: any KeyStore
    private let logger: Logger
    private let group = NIOLockedValueBox<(group: ServiceGroup?, shutdownRequested: Bool)>((nil, false))

    /// A host of `configuration` over `store`; it owns the store from now on and closes it when it stops.
    public init(configuration: HostConfiguration, store: any KeyStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// Runs the host until it is shut down. `onRunning` learns the bound port and the dev preparation's
    /// answer once the endpoint accepts requests. With `handlingSignals`, SIGTERM and SIGINT shut it down.
    public func run(
        handlingSignals: Bool = true, onRunning: @escaping @Sendable (Int, String) async -> Void = { _, _ in }
    ) async throws {
        let registry = HostProbes.registry  // bootstraps swift-metrics before any metric is made
        let configuration = self.configuration
        let store = self.store
        let logger = self.logger
        let pool = HSMPool(
            addresses: configuration.hsms, hostID: configuration.hostID, hostKey: configuration.hostKey,
            domain: configuration.state, clock: { WireTime.now }, connectors: configuration.dev?.hsmConnectors ?? [:])
        // Every request is authorized by the key's policy and the caller's identity policies (AWS's rules),
        // and recorded in the store's hash-chained audit log (`coffer audit`).
        let clock: @Sendable () -> Int64 = { WireTime.now.secondsSinceEpoch }
        let kms = KMSService(
            store: store, hsm: pool, clock: clock, authorizer: PolicyAuthorizer(clock: clock),
            audit: StoreAudit(store: store, clock: clock, logger: logger))
        let prepared: String
        do {
            prepared = try await Self.bootstrap(configuration.dev, kms: kms, logger: logger)
        } catch {
            await pool.close()
            await store.close()
            throw error
        }
        let endpoint = KMSEndpoint(
            kms: kms, verifier: Self.verifier(configuration.credentials, kms: kms, logger: logger),
            regions: configuration.regions,
            reset: configuration.dev?.allowReset == true
                ? DevReset.handler(kms: kms, seeds: configuration.dev?.seeds ?? [], logger: logger) : nil,
            logger: logger, clock: clock, secureTransport: configuration.tls != nil)
        let application = try KMSHTTPServer.application(
            endpoint: endpoint, host: configuration.host, port: configuration.port, tls: configuration.tls,
            limits: configuration.limits, probes: HostProbes.probes(pool: pool, store: store, registry: registry),
            logger: logger
        ) { bound in await onRunning(bound, prepared) }
        let services: [any Service] = [
            // First to start, last to stop.
            Resources(pool: pool, store: store, onShutdown: configuration.dev?.onShutdown),
            Upkeep(
                pool: pool, store: store, kms: kms, rewrap: RewrapJob(kms: kms, logger: logger),
                rotation: ScheduledRotation(
                    interval: configuration.domainKeyRotationInterval, hostKey: configuration.hostKey, logger: logger),
                interval: configuration.upkeepInterval, logger: logger),
            application,
        ]
        let serviceGroup = ServiceGroup(
            services: services, gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [], logger: logger)
        let early = group.withLockedValue { state in
            state.group = serviceGroup
            return state.shutdownRequested
        }
        if early { await serviceGroup.triggerGracefulShutdown() }
        try await serviceGroup.run()
    }

    /// Shuts the running host down gracefully (as SIGTERM does); a host not running yet stops as soon as
    /// it starts.
    public func shutdown() async {
        let running = group.withLockedValue { state in
            state.shutdownRequested = true
            return state.group
        }
        await running?.triggerGracefulShutdown()
    }

    /// Dev mode's seeds and preparation, before the endpoint opens; the preparation's banner part.
    private static func bootstrap(
        _ dev: HostConfiguration.Dev?, kms: KMSService, logger: Logger
    ) async throws -> String {
        guard let dev else { return "" }
        if !dev.seeds.isEmpty {
            do {
                let ids = try await kms.seed(dev.seeds)
                logger.notice("seeded", metadata: ["keys": "\(ids.count)"])
            } catch {
                throw HostError(.bootstrap, "cannot seed: \(error.message)")
            }
        }
        return try await dev.prepare?(kms) ?? ""
    }

    /// Callers: the fixed credentials given, else the store's principals, whose secrets only HSMs hold.
    private static func verifier(
        _ credentials: [String: SigV4Verifier.Credentials], kms: KMSService, logger: Logger
    ) -> SigV4Verifier {
        let directory = PrincipalDirectory(kms: kms, logger: logger)
        return SigV4Verifier(service: "kms") { (id: String, day: String) async throws(SigV4Error) in
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
    }
}

/// The HSM pool and the store as a service: nothing to do while the host runs; on shutdown (after the
/// endpoint and the upkeep have stopped) the HSM sessions close, dev mode's HSM is wiped, the store closes.
struct Resources: Service {
    let pool: HSMPool
    let store: any KeyStore
    let onShutdown: (@Sendable () async -> Void)?

    func run() async throws {
        try? await gracefulShutdown()
        await pool.close()
        await onShutdown?()
        await store.close()
    }
}

/// The upkeep round, every `interval` seconds: HSM health checks, a newer domain state adopted from the
/// HSMs and appended to the store's chain, the re-wrap job, the scheduled domain-key rotation, scheduled
/// key rotations and deletions.
struct Upkeep: Service {
    let pool: HSMPool
    let store: any KeyStore
    let kms: KMSService
    let rewrap: RewrapJob
    let rotation: ScheduledRotation
    let interval: Int
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // A round in progress when shutdown begins is cut short: every step of it is idempotent.
            try? await cancelWhenGracefulShutdown {
                await round()
                try await Task.sleep(for: .seconds(interval))
            }
        }
    }

    private func round() async {
        let health = await pool.healthCheck()
        for member in health where member.stateNotAdopted {
            logger.warning("an HSM holds a domain state the host cannot adopt", metadata: ["hsm": "\(member.detail)"])
        }
        await keepDomainChain()
        // The stored chain, read once a round: states other hosts stored, and what to relay.
        if let stored = try? await store.domainTokens() {
            await adoptStoredStates(stored)
            await relayToMembersBehind(health, stored)
        }
        Gauge(label: "coffer_domain_epoch").record(await pool.domainState.epoch)
        do throws(KMSError) {
            try await rewrap.runIfDue(state: await pool.domainState, now: WireTime.now.secondsSinceEpoch)
        } catch {
            logger.error("the re-wrap pass failed", metadata: ["error": "\(error.code)"])
        }
        // After the re-wrap pass, which moves the tokens a rotation would otherwise strand.
        let state = await pool.domainState
        let store = self.store
        let pool = self.pool
        let rotated = await rotation.runIfDue(
            state: state, now: WireTime.now.secondsSinceEpoch,
            membersInStep: health.allSatisfy { !$0.healthy || $0.epoch == state.epoch },
            census: { try await TokenCensus.take(of: store) }, submit: { try await pool.submit($0, to: $1) })
        if case .rotated = rotated {
            // Stored at once, and relayed to the other members now rather than next round: until they have
            // it, a session under the new key is refused by them.
            await keepDomainChain()
            let after = await pool.healthCheck()
            if let stored = try? await store.domainTokens() { await relayToMembersBehind(after, stored) }
        }
        if let work = try? await kms.runScheduledWork(), !(work.deleted.isEmpty && work.rotated.isEmpty) {
            logger.notice(
                "scheduled work", metadata: ["deleted": "\(work.deleted.count)", "rotated": "\(work.rotated.count)"])
        }
    }

    /// Relays the states this host trusts to each healthy member still at an older epoch (a relay an
    /// operator missed, a member that was down), oldest first, so that every member can serve every token.
    private func relayToMembersBehind(_ health: [HSMPool.Health], _ stored: [(epoch: Int64, der: [UInt8])]) async {
        let current = await pool.domainState.epoch
        let behind = health.filter { $0.healthy && ($0.epoch ?? current) < current }
        for member in behind {
            for entry in stored where entry.epoch > (member.epoch ?? current) && entry.epoch <= current {
                guard let token = try? DomainToken(derEncoded: entry.der) else { break }
                do throws(HSMClientError) {
                    let epoch = try await pool.relay(token, to: member.address)
                    logger.notice(
                        "relayed a domain state", metadata: ["hsm": "\(member.address)", "epoch": "\(epoch)"])
                } catch {
                    logger.warning(
                        "an HSM refused a relayed domain state",
                        metadata: ["hsm": "\(member.address)", "epoch": "\(entry.epoch)", "error": "\(error)"])
                    break
                }
            }
        }
    }

    /// Adopts the states other hosts stored after this host's (it missed an epoch while its HSMs moved
    /// two ahead, or it was down): each verified as the next step of the one before.
    private func adoptStoredStates(_ stored: [(epoch: Int64, der: [UInt8])]) async {
        var state = await pool.domainState
        for entry in stored where entry.epoch > state.epoch {
            guard let token = try? DomainToken(derEncoded: entry.der) else { return }
            do {
                try TokenVerifier.verifySuccessor(token, of: state)
            } catch {
                logger.error(
                    "a stored domain token does not follow the host's state",
                    metadata: ["epoch": "\(entry.epoch)", "error": "\(error.code)"])
                return
            }
            state = token.state
            await pool.update(domain: state)
            logger.notice("adopted a domain state from the store", metadata: ["epoch": "\(state.epoch)"])
        }
    }

    /// Appends the domain tokens the pool adopted from its HSMs to the store's chain, so that the host
    /// (and every host of the store) starts from the newest verified state.
    private func keepDomainChain() async {
        let tokens = await pool.takeAdoptedTokens()
        for (index, token) in tokens.enumerated() {
            do throws(StoreError) {
                try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
                logger.notice("adopted a newer domain state", metadata: ["epoch": "\(token.state.epoch)"])
            } catch  where error.code == .alreadyExists {
                // Another host stored this epoch: the same token, unless the domain forked (two HSMs executed
                // commands on one base), which only operators can resolve.
                if let stored = try? await store.domainTokens().first(where: { $0.epoch == token.state.epoch }),
                    stored.der != token.derBytes
                {
                    logger.critical(
                        "the domain forked: the store holds another state at this epoch than the host's HSMs",
                        metadata: ["epoch": "\(token.state.epoch)"])
                }
                continue
            } catch {
                // Kept for the next round, this one and every later one, so that the chain has no gap.
                logger.error("cannot store a domain token yet", metadata: ["epoch": "\(token.state.epoch)"])
                await pool.returnAdoptedTokens(Array(tokens[index...]))
                return
            }
        }
    }
}
