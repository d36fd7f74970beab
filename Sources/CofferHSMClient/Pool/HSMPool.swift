import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import Metrics
import NIOCore

/// A service host's HSMs (DESIGN.md, `HSMPool`): one session shared by all of them (any online member
/// serves it, PROTOCOL §7), each request sent to the healthy HSM with the fewest outstanding requests,
/// and retried on another HSM when its connection dies (session commands change no HSM state, so a
/// retry is safe). The session is renegotiated at 80 % of its lifetime, or after 2^30 requests, in the
/// background: requests keep using the old one until the new one is ready.
///
/// The decisions are made by two pure state machines, tested without sockets: one per member
/// (``MemberStateMachine``: disconnected, connecting, connected, backing off) and one for the session
/// (``SessionStateMachine``: idle, negotiating, established, renewing). The actor carries out what they
/// return: it opens, uses and closes connections and runs handshakes, and reports how each ended.
public actor HSMPool {
    private let addresses: [HSMAddress]
    private let connectors: [HSMAddress: HSMConnection.Connector]
    /// One state machine per member, in `addresses` order.
    private var members: [MemberStateMachine<HSMConnection>]
    /// The connect under way per member (the machine is `.connecting`), for others to wait on.
    private var connects: [Int: Task<HSMConnection, any Error>] = [:]
    private var sessions = SessionStateMachine<Session>()
    /// The handshake under way (the machine is `.negotiating` or `.renewing`), for others to wait on.
    private var negotiation: Task<Session, any Error>?
    private let hostID: String
    private let hostKey: P384.Signing.PrivateKey
    private var domain: DomainState
    private let clock: @Sendable () -> WireTime
    private var adopted: [DomainToken] = []
    /// The hsmID each member last answered a health check with (verified), by index.
    private var memberIDs: [String?]
    /// Connections being closed in the background, awaited by ``close()``.
    private var closing: [Int: Task<Void, Never>] = [:]
    private var nextClosing = 0

    /// A pool over `addresses` for the host `hostID`, trusting the verified `domain` state. A member with an
    /// entry in `connectors` is reached that way instead of by its address, with a lane per event loop
    /// (``HSMConnection``; `coffer dev`'s in-process HSM).
    public init(
        addresses: [HSMAddress], hostID: String, hostKey: P384.Signing.PrivateKey, domain: DomainState,
        clock: @escaping @Sendable () -> WireTime, connectors: [HSMAddress: HSMConnection.Connector] = [:]
    ) {
        self.addresses = addresses
        self.connectors = connectors
        members = addresses.map { _ in MemberStateMachine() }
        memberIDs = addresses.map { _ in nil }
        self.hostID = hostID
        self.hostKey = hostKey
        self.domain = domain
        self.clock = clock
    }

    /// The domain state the pool trusts.
    public var domainState: DomainState { domain }

    /// The HSM that accepted the current session, if any.
    public var sessionHSM: String? { sessions.current?.acceptedBy }

    /// Outstanding requests per HSM address (for health and balance reporting).
    public var load: [(HSMAddress, Int, healthy: Bool)] {
        members.indices.map { (addresses[$0], members[$0].outstanding, !members[$0].isFailed) }
    }

    /// Runs one session command on some HSM of the pool.
    public func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult {
        var lastError = HSMClientError(.unavailable, "no HSM in the pool")
        for _ in 0..<(members.count * 2 + 1) {
            let (current, id) = try await session()
            guard let index = pick() else { break }
            let request = try current.seal(command, requestID: id)
            members[index].requestStarted()
            let answer: Envelope.Body
            let lease: Lease
            do throws(HSMClientError) {
                lease = try await self.lease(index)
                do {
                    answer = try await lease.connection.request(.sessionRequest(request))
                } catch {
                    fail(index, lease)
                    throw error
                }
                members[index].requestEnded()
            } catch {
                members[index].requestEnded()
                lastError = error
                continue
            }
            switch answer {
            case .sessionResponse(let response):
                members[index].succeeded()
                return try current.open(response, requestID: id)
            case .failure(let failure)
            where [.timeWindow, .unknownHost, .wrongDomain, .authenticationFailed].contains(failure.code):
                // The session is no longer usable (expired, domain key rotated out, host re-keyed): renegotiate.
                sessions.rejected(digest: current.ektDigest)
                lastError = .refused(failure)
            case .failure(let failure) where failure.code == .wrongState || failure.code == .overloaded:
                fail(index, lease)
                lastError = .refused(failure)
            case .failure(let failure):
                throw .refused(failure)
            default:
                throw HSMClientError(.unexpectedAnswer, "the HSM answered a session request with another kind")
            }
        }
        throw HSMClientError(.unavailable, "no HSM could serve the request: \(lastError)")
    }

    /// The health of one member.
    public struct Health: Sendable, Equatable {
        /// The member's address.
        public let address: HSMAddress
        /// Reachable, answers identify with a verified identity, and is an online member of the state.
        public let healthy: Bool
        /// What was seen.
        public let detail: String
        /// Whether the member holds a newer domain state that the host could not verify as the next step.
        public let stateNotAdopted: Bool
        /// The epoch of the member's state, when it answered.
        public let epoch: Int64?

        init(
            address: HSMAddress, healthy: Bool, detail: String, stateNotAdopted: Bool = false, epoch: Int64? = nil
        ) {
            self.address = address
            self.healthy = healthy
            self.detail = detail
            self.stateNotAdopted = stateNotAdopted
            self.epoch = epoch
        }
    }

    /// Asks every HSM who it is (a fresh challenge each), marks those that do not answer as an online
    /// member of the trusted state as failed, and those that do as healthy. A service host runs this
    /// periodically; requests also mark a member failed when its connection dies. A member backing off is
    /// asked all the same, so one that returns is found here.
    public func healthCheck() async -> [Health] {
        var report: [Health] = []
        for index in members.indices {
            let address = addresses[index]
            var random = SystemRandom()
            let challenge = random.bytes(count: WireLimits.challengeLength)
            var held: Lease?
            do {
                let lease = try await lease(index, ignoringBackoff: true)
                held = lease
                let answer = try await lease.connection.request(.identify(challenge: challenge), timeout: .seconds(3))
                // A member a step ahead (a rotation or a membership change relayed to it): adopt its state
                // when it verifies as the next one, so new sessions and the re-wrap job follow it.
                var behind: String?
                if case .identity(let signed) = answer, let epoch = signed.identity.epoch, epoch > domain.epoch,
                    signed.identity.challenge == challenge, signed.isSelfSigned
                {
                    do {
                        try await catchUp(lease.connection)
                    } catch {
                        // More than one step ahead (the host missed a state), or a token that does not verify:
                        // the host keeps its state; operators give it the missing tokens (`--token`).
                        behind =
                            "at epoch \(epoch), ahead of the host's \(domain.epoch), and its state was not adopted: \(error)"
                    }
                }
                guard
                    case .identity(let signed) = answer,
                    signed.identity.challenge == challenge, signed.isSelfSigned,
                    signed.identity.state == .operational, signed.identity.domainID == domain.domainID,
                    domain.members.contains(where: {
                        $0.hsmID == signed.identity.hsmID && $0.kind == .online
                            && $0.signingKey == signed.identity.signingKey
                    })
                else {
                    fail(index, lease)
                    report.append(
                        Health(
                            address: address, healthy: false, detail: "not an operational online member of this domain")
                    )
                    continue
                }
                members[index].succeeded()
                memberIDs[index] = signed.identity.hsmID
                Gauge(label: "coffer_hsm_member_up", dimensions: [("hsm", "\(address)")]).record(1)
                report.append(
                    Health(
                        address: address, healthy: true,
                        detail: "\(signed.identity.hsmID) " + (behind ?? "at epoch \(signed.identity.epoch ?? 0)"),
                        stateNotAdopted: behind != nil, epoch: signed.identity.epoch))
            } catch {
                if let held { fail(index, held) }
                report.append(Health(address: address, healthy: false, detail: "\(error)"))
            }
        }
        return report
    }

    /// `H(DER(ekt))` of the current session, if any (to observe renewal).
    public var sessionDigest: [UInt8]? { sessions.current?.ektDigest }

    /// A function that runs commands under this pool's session on `address` only, without failover:
    /// for checks that a given member serves the session.
    public func onlyOn(
        _ address: HSMAddress
    ) async throws(HSMClientError) -> @Sendable (SessionCommand) async throws -> SessionResult {
        let (session, _) = try await session()
        guard let index = addresses.firstIndex(of: address) else {
            throw HSMClientError(.unavailable, "\(address) is not in the pool")
        }
        let connection = try await lease(index).connection
        return { command in
            let id = await self.allocateRequestID()
            let request = try session.seal(command, requestID: id)
            switch try await connection.request(.sessionRequest(request)) {
            case .sessionResponse(let response): return try session.open(response, requestID: id)
            case .failure(let failure): throw HSMClientError.refused(failure)
            default: throw HSMClientError(.unexpectedAnswer, "not a session response")
            }
        }
    }

    private func allocateRequestID() -> Int64 { sessions.allocateRequestID() }

    /// Adopts a newer verified domain state (for example after a key rotation was relayed).
    public func update(domain newer: DomainState) {
        guard newer.domainID == domain.domainID, newer.epoch > domain.epoch else { return }
        domain = newer
    }

    /// The domain tokens the pool verified and adopted from its HSMs since the last call, in epoch order:
    /// the host appends them to its store's chain, so it starts from the newest state next time.
    public func takeAdoptedTokens() -> [DomainToken] {
        defer { adopted = [] }
        return adopted
    }

    /// Gives back adopted tokens the host could not store yet (the store was away), to be taken again
    /// before any adopted since: the stored chain must have no gap.
    public func returnAdoptedTokens(_ tokens: [DomainToken]) {
        adopted = tokens + adopted
    }

    /// Relays `token` to the member at `address` (`applyToken`, as `coffer domain relay` does): the HSM
    /// checks it against its own state and moves to it; the epoch it is at afterwards.
    public func relay(_ token: DomainToken, to address: HSMAddress) async throws(HSMClientError) -> Int64 {
        guard let index = addresses.firstIndex(of: address) else {
            throw HSMClientError(.unavailable, "\(address) is not in the pool")
        }
        switch try await lease(index, ignoringBackoff: true).connection.request(.applyToken(token)) {
        case .token(let applied): return applied.state.epoch
        case .failure(let failure): throw .refused(failure)
        default: throw HSMClientError(.unexpectedAnswer, "the HSM answered a token with another kind")
        }
    }

    /// Has the member `executor` (an hsmID a health check verified) execute the quorum-signed `command`
    /// (the host's scheduled `domain.rotateKeys`), and adopts the state it produces once it verifies as the
    /// next step of the command's base (it is also handed out by ``takeAdoptedTokens()`` for the store's
    /// chain). Never sent to another member, not even when the connection fails after sending: the executor
    /// may have executed it, and the same command executed by a second member would fork the domain. The
    /// next health check adopts the executor's state if it did.
    public func submit(_ command: SignedCommand, to executor: String) async throws(HSMClientError) -> DomainToken {
        guard let index = memberIDs.firstIndex(of: executor) else {
            throw HSMClientError(.unavailable, "the executor \(executor) has not answered a health check")
        }
        let base = domain
        let lease = try await lease(index)
        let answer: Envelope.Body
        do {
            answer = try await lease.connection.request(.command(command))
        } catch {
            fail(index, lease)
            throw error
        }
        switch answer {
        case .token(let token):
            if token.state.epoch == domain.epoch, token.state.digest == domain.digest {
                return token  // a health check or a handshake adopted it meanwhile
            }
            do {
                try TokenVerifier.verifySuccessor(token, of: base)
            } catch {
                throw HSMClientError(.badToken, "the token the HSM produced does not verify: \(error)")
            }
            guard domain.epoch == base.epoch else {
                throw HSMClientError(.badToken, "the pool moved to epoch \(domain.epoch) while the command ran")
            }
            domain = token.state
            adopted.append(token)
            return token
        case .failure(let failure):
            throw .refused(failure)
        default:
            throw HSMClientError(.unexpectedAnswer, "the HSM answered a command with another kind")
        }
    }

    /// Closes every connection, waiting for connects under way (each is closed as it opens); a closed pool
    /// opens none again (a renewal or a request still running finds it closed).
    public func close() async {
        sessions.close()
        negotiation?.cancel()
        let connectsUnderWay = Array(connects.values)
        for index in members.indices {
            if let connection = members[index].close() { close(connection) }
        }
        for connect in connectsUnderWay { _ = try? await connect.value }
        while let (_, task) = closing.first {
            await task.value
        }
    }

    // MARK: Sessions

    /// The session to use and a request id under it, after a handshake if none is valid.
    private func session() async throws(HSMClientError) -> (Session, Int64) {
        for _ in 0..<4 {
            let handshake: Task<Session, any Error>
            switch sessions.sessionWanted(now: now) {
            case .use(let session, let requestID, let startRenewal):
                // Renewal runs in the background; requests keep using this session until it is replaced.
                if startRenewal { startNegotiation(renewal: true) }
                return (session, requestID)
            case .negotiate:
                handshake = startNegotiation(renewal: false)
            case .wait:
                guard let negotiation else { continue }
                handshake = negotiation
            case .closed:
                throw HSMClientError(.unavailable, "the HSM pool is closed")
            }
            do {
                _ = try await handshake.value
            } catch {
                throw (error as? HSMClientError) ?? HSMClientError(.unavailable, "\(error)")
            }
        }
        throw HSMClientError(.unavailable, "no session could be established")
    }

    /// Starts the handshake the session machine asked for; its end is reported to the machine before
    /// anyone waiting on it resumes.
    @discardableResult
    private func startNegotiation(renewal: Bool) -> Task<Session, any Error> {
        let task = Task { () async throws -> Session in
            do {
                let fresh = try await self.negotiate()
                self.negotiationEnded(with: fresh, renewal: renewal)
                return fresh
            } catch {
                self.negotiationEnded(with: nil, renewal: renewal)
                throw error
            }
        }
        negotiation = task
        return task
    }

    private func negotiationEnded(with fresh: Session?, renewal: Bool) {
        negotiation = nil
        if let fresh {
            if sessions.negotiated(fresh), renewal { Counter(label: "coffer_hsm_session_renewals_total").increment() }
        } else {
            sessions.negotiationFailed(now: now)
        }
    }

    /// Whether a session is established or can be now (readiness: `/ready`); a handshake if none is.
    public func hasSession() async -> Bool {
        (try? await session()) != nil
    }

    private func negotiate() async throws(HSMClientError) -> Session {
        var lastError = HSMClientError(.unavailable, "no HSM in the pool")
        for _ in 0..<(members.count * 2 + 1) {
            guard let index = pick() else { break }
            let lease: Lease
            do {
                lease = try await self.lease(index)
            } catch {
                lastError = error
                continue
            }
            do {
                let session = try await handshake(over: lease.connection)
                Counter(label: "coffer_hsm_sessions_negotiated_total").increment()
                return session
            } catch {
                Counter(label: "coffer_hsm_session_failures_total").increment()
                lastError = error
                if error.code == .transport || error.failure?.code == .wrongState { fail(index, lease) }
                if let failure = error.failure, failure.code != .staleBase, failure.code != .wrongState { throw error }
            }
        }
        throw HSMClientError(.unavailable, "no HSM accepted a session: \(lastError)")
    }

    private func handshake(over connection: HSMConnection) async throws(HSMClientError) -> Session {
        var handshake = SessionHandshake(hostID: hostID, hostKey: hostKey, domain: domain)
        var random = SystemRandom()
        let offer = try handshake.start(now: clock(), random: &random)
        switch try await connection.request(.sessionInit(offer)) {
        case .accept(let accept):
            return try handshake.receive(accept: accept, now: clock())
        case .failure(let failure):
            if failure.code == .staleBase { try await catchUp(connection) }
            throw .refused(failure)
        default:
            throw HSMClientError(.unexpectedAnswer, "the HSM answered a session offer with another kind")
        }
    }

    /// The HSM is at a newer epoch: fetch its token and adopt it if it verifies as the next step.
    private func catchUp(_ connection: HSMConnection) async throws(HSMClientError) {
        guard case .token(let token) = try await connection.request(.currentToken) else { return }
        guard token.state.epoch > domain.epoch else { return }
        do {
            try TokenVerifier.verifySuccessor(token, of: domain)
            domain = token.state
            adopted.append(token)
        } catch {
            throw HSMClientError(
                .badToken, "the HSM's newer domain token does not verify from the host's state: \(error)")
        }
    }

    // MARK: Members

    /// A member's open connection and the generation that names it in failure reports.
    private struct Lease {
        let connection: HSMConnection
        let generation: Int
    }

    private var now: Int64 { clock().secondsSinceEpoch }

    /// The usable member with the fewest outstanding requests.
    private func pick() -> Int? {
        let now = self.now
        return members.indices.filter { members[$0].isUsable(now: now) }
            .min { members[$0].outstanding < members[$1].outstanding }
    }

    /// The member's connection, as its machine decides: the open one, the one being opened, or a new one.
    private func lease(_ index: Int, ignoringBackoff: Bool = false) async throws(HSMClientError) -> Lease {
        for _ in 0..<3 {
            let connect: Task<HSMConnection, any Error>
            switch members[index].connectionWanted(now: now, ignoringBackoff: ignoringBackoff) {
            case .use(let connection, let generation):
                if connection.isActive { return Lease(connection: connection, generation: generation) }
                // Closed by the HSM since its last use (an idle timeout, a restart): not a failure, reopen.
                if let closed = members[index].dropped(generation: generation) { close(closed) }
                continue
            case .connect:
                connect = startConnect(index)
            case .wait:
                guard let pending = connects[index] else { continue }
                connect = pending
            case .backingOff(let until):
                throw HSMClientError(.transport, "\(addresses[index]) failed; not tried again before \(until)")
            case .closed:
                throw HSMClientError(.unavailable, "the HSM pool is closed")
            }
            do {
                _ = try await connect.value
            } catch {
                throw (error as? HSMClientError) ?? HSMClientError(.transport, "\(error)")
            }
        }
        // It accepts and closes again and again: treat it as failed so that requests go elsewhere.
        if let connection = members[index].memberFailed(now: now) { close(connection) }
        throw HSMClientError(.transport, "cannot keep a connection to \(addresses[index]) open")
    }

    /// Opens the connection the member's machine asked for; its end is reported to the machine before
    /// anyone waiting on it resumes, and a connection that opens after the pool closed is closed.
    private func startConnect(_ index: Int) -> Task<HSMConnection, any Error> {
        let address = addresses[index]
        let connector = connectors[address]
        let task = Task { () async throws -> HSMConnection in
            let fresh: HSMConnection
            do {
                if let connector {
                    fresh = try await HSMConnection.connect(using: connector)
                } else {
                    fresh = try await HSMConnection.connect(to: address)
                }
            } catch {
                _ = self.connectEnded(index, with: nil)
                throw HSMClientError(.transport, "cannot reach \(address): \(error)")
            }
            guard self.connectEnded(index, with: fresh) else {
                await fresh.close()
                throw HSMClientError(.unavailable, "the HSM pool is closed")
            }
            return fresh
        }
        connects[index] = task
        return task
    }

    /// Whether the connection is kept (false: the pool closed, the caller closes it).
    private func connectEnded(_ index: Int, with fresh: HSMConnection?) -> Bool {
        connects[index] = nil
        guard let fresh else {
            members[index].connectFailed(now: now)
            return false
        }
        switch members[index].connectSucceeded(fresh) {
        case .use: return true
        case .close: return false
        }
    }

    /// The connection of `lease` failed: the member backs off and the connection is closed, not just
    /// dropped (an abandoned socket would hold one of the HSM's places).
    private func fail(_ index: Int, _ lease: Lease) {
        guard let failed = members[index].failed(generation: lease.generation, now: now) else { return }
        Gauge(label: "coffer_hsm_member_up", dimensions: [("hsm", "\(addresses[index])")]).record(0)
        close(failed)
    }

    /// Closes `connection` in the background; ``close()`` waits for every such close.
    private func close(_ connection: HSMConnection) {
        let id = nextClosing
        nextClosing += 1
        closing[id] = Task {
            await connection.close()
            self.closing[id] = nil
        }
    }
}
