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
public actor HSMPool {
    /// How long an HSM that failed is left alone before it is tried again.
    public static let retryDelay: Int64 = 1

    private struct Member {
        let address: HSMAddress
        var connection: HSMConnection?
        var outstanding = 0
        var failedAt: WireTime?
    }

    private var members: [Member]
    private let hostID: String
    private let hostKey: P384.Signing.PrivateKey
    private var domain: DomainState
    private let clock: @Sendable () -> WireTime
    private var session: Session?
    private var renewing = false
    private var renewal: Task<Void, Never>?
    private var closed = false
    private var pendingNegotiation: Task<Session, any Error>?
    private var nextRequestID: Int64 = 1
    private var sessionRequests: Int64 = 0
    private var adopted: [DomainToken] = []

    /// A pool over `addresses` for the host `hostID`, trusting the verified `domain` state.
    public init(
        addresses: [HSMAddress], hostID: String, hostKey: P384.Signing.PrivateKey, domain: DomainState,
        clock: @escaping @Sendable () -> WireTime
    ) {
        members = addresses.map { Member(address: $0) }
        self.hostID = hostID
        self.hostKey = hostKey
        self.domain = domain
        self.clock = clock
    }

    /// The domain state the pool trusts.
    public var domainState: DomainState { domain }

    /// The HSM that accepted the current session, if any.
    public var sessionHSM: String? { session?.acceptedBy }

    /// Outstanding requests per HSM address (for health and balance reporting).
    public var load: [(HSMAddress, Int, healthy: Bool)] {
        members.map { ($0.address, $0.outstanding, $0.failedAt == nil) }
    }

    /// Runs one session command on some HSM of the pool.
    public func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult {
        var lastError = HSMClientError(.unavailable, "no HSM in the pool")
        for _ in 0..<(members.count * 2 + 1) {
            let current = try await currentSession()
            guard let index = pick() else { break }
            let id = allocateRequestID()
            let request = try current.seal(command, requestID: id)
            members[index].outstanding += 1
            let answer: Envelope.Body
            do {
                let connection = try await connection(index)
                answer = try await connection.request(.sessionRequest(request))
                members[index].outstanding -= 1
            } catch {
                members[index].outstanding -= 1
                markFailed(index)
                lastError = error
                continue
            }
            switch answer {
            case .sessionResponse(let response):
                return try current.open(response, requestID: id)
            case .failure(let failure)
            where [.timeWindow, .unknownHost, .wrongDomain, .authenticationFailed].contains(failure.code):
                // The session is no longer usable (expired, domain key rotated out, host re-keyed): renegotiate.
                if session?.ektDigest == current.ektDigest { session = nil }
                lastError = .refused(failure)
            case .failure(let failure) where failure.code == .wrongState || failure.code == .overloaded:
                markFailed(index)
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
    /// periodically; requests also mark a member failed when its connection dies.
    public func healthCheck() async -> [Health] {
        var report: [Health] = []
        for index in members.indices {
            let address = members[index].address
            var random = SystemRandom()
            let challenge = random.bytes(count: WireLimits.challengeLength)
            do {
                let connection = try await connection(index)
                let answer = try await connection.request(.identify(challenge: challenge), timeout: .seconds(3))
                // A member a step ahead (a rotation or a membership change relayed to it): adopt its state
                // when it verifies as the next one, so new sessions and the re-wrap job follow it.
                var behind: String?
                if case .identity(let signed) = answer, let epoch = signed.identity.epoch, epoch > domain.epoch,
                    signed.identity.challenge == challenge, signed.isSelfSigned
                {
                    do {
                        try await catchUp(connection)
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
                    markFailed(index)
                    report.append(
                        Health(
                            address: address, healthy: false, detail: "not an operational online member of this domain")
                    )
                    continue
                }
                members[index].failedAt = nil
                Gauge(label: "coffer_hsm_member_up", dimensions: [("hsm", "\(address)")]).record(1)
                report.append(
                    Health(
                        address: address, healthy: true,
                        detail: "\(signed.identity.hsmID) " + (behind ?? "at epoch \(signed.identity.epoch ?? 0)"),
                        stateNotAdopted: behind != nil, epoch: signed.identity.epoch))
            } catch {
                markFailed(index)
                report.append(Health(address: address, healthy: false, detail: "\(error)"))
            }
        }
        return report
    }

    /// `H(DER(ekt))` of the current session, if any (to observe renewal).
    public var sessionDigest: [UInt8]? { session?.ektDigest }

    /// A function that runs commands under this pool's session on `address` only, without failover:
    /// for checks that a given member serves the session.
    public func onlyOn(
        _ address: HSMAddress
    ) async throws(HSMClientError) -> @Sendable (SessionCommand) async throws -> SessionResult {
        let session = try await currentSession()
        guard let index = members.firstIndex(where: { $0.address == address }) else {
            throw HSMClientError(.unavailable, "\(address) is not in the pool")
        }
        let connection = try await connection(index)
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

    /// The next request id under the current session: ids are never reused while a session lives,
    /// whichever HSM serves them (each HSM refuses an id it has served: PROTOCOL §7).
    private func allocateRequestID() -> Int64 {
        let id = nextRequestID
        nextRequestID = nextRequestID == Int64.max ? 1 : nextRequestID + 1
        sessionRequests += 1
        return id
    }

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

    /// Relays `token` to the member at `address` (`applyToken`, as `coffer domain relay` does): the HSM
    /// checks it against its own state and moves to it; the epoch it is at afterwards.
    public func relay(_ token: DomainToken, to address: HSMAddress) async throws(HSMClientError) -> Int64 {
        guard let index = members.firstIndex(where: { $0.address == address }) else {
            throw HSMClientError(.unavailable, "\(address) is not in the pool")
        }
        switch try await connection(index).request(.applyToken(token)) {
        case .token(let applied): return applied.state.epoch
        case .failure(let failure): throw .refused(failure)
        default: throw HSMClientError(.unexpectedAnswer, "the HSM answered a token with another kind")
        }
    }

    /// Gives back adopted tokens the host could not store yet (the store was away), to be taken again
    /// before any adopted since: the stored chain must have no gap.
    public func returnAdoptedTokens(_ tokens: [DomainToken]) {
        adopted = tokens + adopted
    }

    /// Closes every connection; a closed pool opens none again (a renewal or a request still running
    /// finds it closed).
    public func close() async {
        closed = true
        renewal?.cancel()
        pendingNegotiation?.cancel()
        for index in members.indices {
            await members[index].connection?.close()
            members[index].connection = nil
        }
    }

    // MARK: Sessions

    private func currentSession() async throws(HSMClientError) -> Session {
        let now = clock()
        if let session, now < session.notAfter {
            if now >= session.renewAt || sessionRequests >= Session.requestLimit, !renewing {
                // Renew in the background; requests keep using this session until the new one is adopted.
                renewing = true
                renewal = Task { await self.renewInBackground() }
            }
            return session
        }
        // None yet, or expired: every waiting request shares one handshake.
        let task: Task<Session, any Error>
        if let pendingNegotiation {
            task = pendingNegotiation
        } else {
            task = Task { try await self.negotiate() }
            pendingNegotiation = task
        }
        do {
            let fresh = try await task.value
            if pendingNegotiation == task {
                pendingNegotiation = nil
                adopt(fresh)
            }
            return fresh
        } catch {
            if pendingNegotiation == task { pendingNegotiation = nil }
            throw (error as? HSMClientError) ?? HSMClientError(.unavailable, "\(error)")
        }
    }

    private func renewInBackground() async {
        if let fresh = try? await negotiate(), !closed {
            adopt(fresh)
            Counter(label: "coffer_hsm_session_renewals_total").increment()
        }
        renewing = false
        renewal = nil
    }

    /// Whether a session is established or can be now (readiness: `/ready`); a handshake if none is.
    public func hasSession() async -> Bool {
        guard !closed else { return false }
        return (try? await currentSession()) != nil
    }

    private func adopt(_ fresh: Session) {
        session = fresh
        sessionRequests = 0
    }

    private func negotiate() async throws(HSMClientError) -> Session {
        var lastError = HSMClientError(.unavailable, "no HSM in the pool")
        for _ in 0..<(members.count * 2 + 1) {
            guard let index = pick() else { break }
            do {
                let session = try await handshake(on: index)
                Counter(label: "coffer_hsm_sessions_negotiated_total").increment()
                return session
            } catch {
                Counter(label: "coffer_hsm_session_failures_total").increment()
                lastError = error
                if error.code == .transport || error.failure?.code == .wrongState { markFailed(index) }
                if let failure = error.failure, failure.code != .staleBase, failure.code != .wrongState { throw error }
            }
        }
        throw HSMClientError(.unavailable, "no HSM accepted a session: \(lastError)")
    }

    private func handshake(on index: Int) async throws(HSMClientError) -> Session {
        var handshake = SessionHandshake(hostID: hostID, hostKey: hostKey, domain: domain)
        var random = SystemRandom()
        let offer = try handshake.start(now: clock(), random: &random)
        let connection = try await connection(index)
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
                .badAccept, "the HSM's newer domain token does not verify from the host's state: \(error)")
        }
    }

    // MARK: Members

    /// The healthy member with the fewest outstanding requests; a failed one is retried after `retryDelay`.
    private func pick() -> Int? {
        let now = clock()
        let usable = members.indices.filter { index in
            guard let failedAt = members[index].failedAt else { return true }
            return now.secondsSinceEpoch - failedAt.secondsSinceEpoch >= Self.retryDelay
        }
        return usable.min { members[$0].outstanding < members[$1].outstanding }
    }

    private func markFailed(_ index: Int) {
        members[index].failedAt = clock()
        Gauge(label: "coffer_hsm_member_up", dimensions: [("hsm", "\(members[index].address)")]).record(0)
        // Closed, not just dropped: an abandoned socket would hold one of the HSM's places.
        if let abandoned = members[index].connection { Task { await abandoned.close() } }
        members[index].connection = nil
    }

    /// The member's connection, opened when it has none (or a dead one). Requests that arrive together
    /// may each open one while the actor waits; the first to finish is kept and the others are closed, so
    /// no socket is left behind.
    private func connection(_ index: Int) async throws(HSMClientError) -> HSMConnection {
        guard !closed else { throw HSMClientError(.unavailable, "the HSM pool is closed") }
        if let existing = members[index].connection, existing.isActive { return existing }
        let fresh: HSMConnection
        do {
            fresh = try await HSMConnection.connect(to: members[index].address)
        } catch {
            throw HSMClientError(.transport, "cannot reach \(members[index].address): \(error)")
        }
        if closed {
            await fresh.close()
            throw HSMClientError(.unavailable, "the HSM pool is closed")
        }
        if let existing = members[index].connection, existing.isActive {
            await fresh.close()
            return existing
        }
        if let dead = members[index].connection { await dead.close() }
        members[index].connection = fresh
        members[index].failedAt = nil
        return fresh
    }
}
