import CofferHSMClient
import CofferKMS
import CofferServer
import CofferWire
import Crypto
import NIOSSL

/// Everything a service host needs, decided before it starts (`coffer host` parses it from its options,
/// `coffer dev` builds it for its in-process HSM).
public struct HostConfiguration: Sendable {
    /// Seconds between upkeep rounds (`--upkeep-interval`).
    public static let defaultUpkeepInterval = 30

    /// What `coffer dev` adds to a host.
    public struct Dev: Sendable {
        /// Keys to create before the endpoint opens.
        public var seeds: [KeySeed]
        /// Whether the signed `CofferDev.Reset` call is served.
        public var allowReset: Bool
        /// Runs before the endpoint opens (the admin principal, imported credentials); its answer is the
        /// banner's credentials part.
        public var prepare: (@Sendable (KMSService) async throws -> String)?
        /// Runs when the host has stopped serving and closed its HSM sessions: dev mode wipes its
        /// in-process HSM here.
        public var onShutdown: (@Sendable () async -> Void)?
        /// HSMs reached without their address (``HSMConnection/Connector``): the in-process HSM, so that
        /// each request's frames stay on its event loop.
        public var hsmConnectors: [HSMAddress: HSMConnection.Connector]

        /// Dev options.
        public init(
            seeds: [KeySeed] = [], allowReset: Bool = false,
            prepare: (@Sendable (KMSService) async throws -> String)? = nil,
            onShutdown: (@Sendable () async -> Void)? = nil,
            hsmConnectors: [HSMAddress: HSMConnection.Connector] = [:]
        ) {
            self.seeds = seeds
            self.allowReset = allowReset
            self.prepare = prepare
            self.onShutdown = onShutdown
            self.hsmConnectors = hsmConnectors
        }
    }

    /// The address to serve on; port 0 takes a free one (the banner says which).
    public var host: String
    public var port: Int
    /// HTTPS when given.
    public var tls: TLSConfiguration?
    /// The domain's HSMs.
    public var hsms: [HSMAddress]
    /// This host's id in the domain, and its signing key.
    public var hostID: String
    public var hostKey: P384.Signing.PrivateKey
    /// The verified domain state to start from (``DomainChain/verifiedState(store:genesis:given:)``).
    public var state: DomainState
    /// Fixed callers besides the store's principals.
    public var credentials: [String: SigV4Verifier.Credentials]
    /// The regions served.
    public var regions: KMSEndpoint.Regions
    /// HTTP limits.
    public var limits: HTTPLimits
    /// Seconds between upkeep rounds.
    public var upkeepInterval: Int
    /// Seconds between scheduled domain-key rotations, when the domain's rules pre-authorize this host
    /// (``RotationSchedule``); 0 turns them off.
    public var domainKeyRotationInterval: Int64
    /// Dev mode's additions, if any.
    public var dev: Dev?

    /// A configuration.
    public init(
        host: String, port: Int, tls: TLSConfiguration? = nil, hsms: [HSMAddress], hostID: String,
        hostKey: P384.Signing.PrivateKey, state: DomainState, credentials: [String: SigV4Verifier.Credentials] = [:],
        regions: KMSEndpoint.Regions = .all, limits: HTTPLimits = HTTPLimits(),
        upkeepInterval: Int = HostConfiguration.defaultUpkeepInterval,
        domainKeyRotationInterval: Int64 = RotationSchedule.defaultInterval, dev: Dev? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.hsms = hsms
        self.hostID = hostID
        self.hostKey = hostKey
        self.state = state
        self.credentials = credentials
        self.regions = regions
        self.limits = limits
        self.upkeepInterval = upkeepInterval
        self.domainKeyRotationInterval = domainKeyRotationInterval
        self.dev = dev
    }
}
