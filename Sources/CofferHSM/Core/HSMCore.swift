import CofferCrypto
import CofferDomain
import CofferWire

/// The HSM as a state machine (PROTOCOL §3, §5, §7, §10): uninitialized → operational → wiped.
///
/// A pure function of (its volatile state, the request, the time, randomness): no I/O, no clock, no
/// locks. The NIO server owns one and feeds it envelopes; tests drive it directly.
public struct HSMCore: Sendable {
    private enum State: Sendable {
        /// A fresh identity, no domain: answers identify, domain.create and domain.join.
        case uninitialized(HSMKeys)
        /// A member of a domain, with its session bookkeeping.
        case operational(HSMKeys, DomainMembership, SessionService)
        /// Everything dropped (shutdown): answers nothing but failure(wrongState).
        case wiped
    }

    private var state: State

    /// What the server should do after answering.
    public enum Effect: Equatable, Sendable {
        /// Nothing more.
        case none
        /// The HSM left or was removed from its domain and now has a fresh identity (§5).
        case restartedWithNewIdentity(hsmID: String)
    }

    /// A new HSM with a fresh identity.
    public init(keys: HSMKeys = .generate()) {
        state = .uninitialized(keys)
    }

    /// The most opened backing-key tokens the HSM keeps; for tests.
    package static let openedTokenCapacity = OpenedTokens.capacity

    /// How many opened backing-key tokens the HSM keeps (nil unless operational); for tests.
    package var openedTokenCount: Int? {
        guard case .operational(_, _, let sessions) = state else { return nil }
        return sessions.opened.count
    }

    /// How many opened session keys the HSM keeps (nil unless operational); for tests.
    package var sessionKeyCount: Int? {
        guard case .operational(_, _, let sessions) = state else { return nil }
        return sessions.sessionKeyCount
    }

    /// The current hsmID (nil once wiped).
    public var hsmID: String? {
        switch state {
        case .uninitialized(let keys), .operational(let keys, _, _): keys.hsmID
        case .wiped: nil
        }
    }

    /// The domain state, when operational.
    public var domainState: DomainState? {
        switch state {
        case .operational(_, let membership, _): membership.state
        case .uninitialized, .wiped: nil
        }
    }

    /// Drops every key (domain keys and identity keys); `SecretBytes` zeroize as they are released.
    public mutating func wipe() {
        state = .wiped
    }

    /// Public-key work done for one request before the server took its lock, handed to
    /// ``handle(_:now:random:proof:)`` so that it is not done a second time under the lock. Each proof is
    /// used only for its own kind of request, and a command's or a token's only for the same message, state
    /// and time; otherwise the core verifies as if there were none.
    public enum Proof: Sendable {
        /// A `sessionInit`'s Sig1 (``verifySessionInit(_:key:)``, or ``preverify(_:)``).
        case sessionInit(VerifiedSessionInit)
        /// A command's approvals (``preverify(_:)``).
        case command(VerifiedCommand)
        /// A domain token's signatures and its keys opened (``preverify(_:)``).
        case token(VerifiedToken)
    }

    /// Answers one request envelope, using `proof` where it applies.
    public mutating func handle(
        _ envelope: Envelope, now: WireTime, random: inout some RandomSource, proof: Proof? = nil
    ) -> (answer: Envelope, effect: Effect) {
        guard WireLimits.requestIDRange.contains(envelope.id) else {
            return (Envelope(id: 0, body: .failure(Failure(.malformed, "a request id is 1 … 2^63−1"))), .none)
        }
        if case .sessionRequest(let request) = envelope.body,
            case .operational(let keys, let membership, let sessions) = state
        {
            // Every KMS call: taken before `answer`, whose switch would copy the envelope's body and the state.
            let body = serve(
                request, keys: keys, membership: membership, sessions: consume sessions, now: now, random: &random)
            return (Envelope(id: envelope.id, body: body), .none)
        }
        let (body, effect) = answer(envelope.body, now: now, random: &random, proof: proof)
        return (Envelope(id: envelope.id, body: body), effect)
    }

    private mutating func answer(
        _ body: Envelope.Body, now: WireTime, random: inout some RandomSource, proof: Proof?
    ) -> (Envelope.Body, Effect) {
        switch (body, state) {
        case (_, .wiped):
            return (.failure(Failure(.wrongState, "this HSM has been wiped")), .none)
        case (.identify(let challenge), .uninitialized), (.identify(let challenge), .operational):
            return (Self.identity(identitySource, challenge: challenge), .none)
        case (.command(let signed), .uninitialized(let keys)):
            return execute(signed, keys: keys, membership: nil, sessions: SessionService(), now: now, random: &random)
        case (.command(let signed), .operational(let keys, let membership, let sessions)):
            let verified: VerifiedCommand? = if case .command(let verified) = proof { verified } else { nil }
            return execute(
                signed, keys: keys, membership: membership, sessions: sessions, now: now, random: &random,
                proof: verified)
        case (.recover(let request), .uninitialized(let keys)):
            do {
                let outcome = try DomainEngine.recover(request, hsm: keys, now: now, random: &random)
                guard let membership = outcome.membership else {
                    return (.failure(Failure(.internal, "a recovery produced no membership")), .none)
                }
                state = .operational(keys, membership, SessionService())
                return (.token(outcome.token), .none)
            } catch {
                return (.failure(Failure(error.failureCode, error.message)), .none)
            }
        case (.recover, .operational):
            return (.failure(Failure(.wrongState, "domain.recover runs on an uninitialized HSM")), .none)
        case (.applyToken, .uninitialized):
            return (.failure(Failure(.wrongState, "an uninitialized HSM joins with domain.join")), .none)
        case (.applyToken(let token), .operational(let keys, let membership, let sessions)):
            // A relay of the state this HSM already holds (hosts relay adopted states, and so may an operator):
            // answered with the HSM's own token for it; nothing changes.
            if Self.isRelay(token, of: membership) {
                return (.token(membership.token), .none)
            }
            do {
                let verified: VerifiedToken? = if case .token(let verified) = proof { verified } else { nil }
                switch try DomainEngine.apply(token, to: membership, hsm: keys, proof: verified) {
                case .updated(let next):
                    state = .operational(keys, next, sessions.adopting(next, now: now))
                    return (.token(token), .none)
                case .removed:
                    let fresh = HSMKeys.generate()
                    state = .uninitialized(fresh)
                    return (.token(token), .restartedWithNewIdentity(hsmID: fresh.hsmID))
                }
            } catch {
                return (.failure(Failure(error.failureCode, error.message)), .none)
            }
        case (.currentToken, .uninitialized):
            return (.failure(Failure(.wrongState, "this HSM is not a member of a domain")), .none)
        case (.currentToken, .operational(_, let membership, _)):
            return (.token(membership.token), .none)
        case (.sessionInit, .uninitialized), (.sessionRequest, .uninitialized):
            return (.failure(Failure(.wrongState, "this HSM is not a member of a domain")), .none)
        case (.sessionInit(let signedInit), .operational(let keys, let membership, var sessions)):
            guard membership.state.members.contains(where: { keys.isMember($0) && $0.kind == .online }) else {
                return (.failure(Failure(.wrongState, "only an online member serves sessions")), .none)
            }
            state = .wiped  // releases the enum's copy, so `sessions` is mutated in place (no CoW copy)
            let verifiedInit: VerifiedSessionInit? =
                if case .sessionInit(let verified) = proof { verified } else { nil }
            do {
                let accept = try SessionAcceptor.accept(
                    signedInit, membership: membership, hsm: keys, now: now, usage: &sessions.usage,
                    seen: &sessions.seenInits, random: &random, verified: verifiedInit)
                state = .operational(keys, membership, sessions)
                return (.accept(accept), .none)
            } catch {
                state = .operational(keys, membership, sessions)
                return (.failure(error), .none)
            }
        case (.sessionRequest(let request), .operational(let keys, let membership, let sessions)):
            return (
                serve(
                    request, keys: keys, membership: membership, sessions: consume sessions, now: now, random: &random),
                .none
            )
        case (.identity, _), (.token, _), (.accept, _), (.sessionResponse, _), (.failure, _):
            return (.failure(Failure(.malformed, "an answer kind sent as a request")), .none)
        }
    }

    /// A session request (§7), on an operational HSM whose state's parts are `keys`, `membership` and
    /// `sessions` (handed over, so that once the state lets go of its copy the tables are mutated in place).
    private mutating func serve(
        _ request: SessionRequest, keys: HSMKeys, membership: DomainMembership, sessions: consuming SessionService,
        now: WireTime, random: inout some RandomSource
    ) -> Envelope.Body {
        guard membership.state.members.contains(where: { keys.isMember($0) && $0.kind == .online }) else {
            return .failure(Failure(.wrongState, "only an online member serves sessions"))
        }
        state = .wiped  // releases the enum's copy, so the replay tables are mutated in place
        do {
            let response = try sessions.serve(request, membership: membership, now: now, random: &random)
            state = .operational(keys, membership, sessions)
            return .sessionResponse(response)
        } catch {
            state = .operational(keys, membership, sessions)
            return .failure(error)
        }
    }

    /// The key a SessionInit's Sig1 must verify under, when the checks before it pass (§7) on an online
    /// member; nil when the core would refuse the init first. ``preverification(for:now:)`` hands it out so
    /// that Sig1 — public-key work anyone who reaches the socket can ask for — is verified outside the
    /// server's lock, with ``verifySessionInit(_:key:)``.
    public func sessionInitKey(_ signedInit: SignedInit, now: WireTime) -> P384PublicKey? {
        guard case .operational(let keys, let membership, let sessions) = state,
            membership.state.members.contains(where: { keys.isMember($0) && $0.kind == .online })
        else { return nil }
        return SessionAcceptor.signatureKey(signedInit, state: membership.state, seen: sessions.seenInits, now: now)
    }

    /// Verifies Sig1 of `signedInit` under `key`: the proof, or nil when it does not verify.
    public static func verifySessionInit(_ signedInit: SignedInit, key: P384PublicKey) -> VerifiedSessionInit? {
        guard Signing.isValid(signedInit.signature, over: signedInit.initMessage.derBytes, label: .sessionInit, by: key)
        else { return nil }
        return VerifiedSessionInit(digest: signedInit.digest, key: key)
    }

    /// What answering `identify` needs: the identity keys and the domain, if any (nil once wiped).
    public struct IdentitySource: Sendable {
        let keys: HSMKeys
        let domain: (id: [UInt8], epoch: Int64)?
    }

    /// The identity source, read under the server's lock so that the signature — the one piece of
    /// public-key work anyone who reaches the socket can ask for — is made outside it (``identify(_:source:)``).
    public var identitySource: IdentitySource? {
        switch state {
        case .uninitialized(let keys): IdentitySource(keys: keys, domain: nil)
        case .operational(let keys, let membership, _):
            IdentitySource(keys: keys, domain: (membership.state.domainID, membership.state.epoch))
        case .wiped: nil
        }
    }

    /// The answer to an `identify` envelope from `source`, exactly as ``handle(_:now:random:)`` gives it.
    public static func identify(_ envelope: Envelope, source: IdentitySource?) -> Envelope {
        guard WireLimits.requestIDRange.contains(envelope.id) else {
            return Envelope(id: 0, body: .failure(Failure(.malformed, "a request id is 1 … 2^63−1")))
        }
        guard case .identify(let challenge) = envelope.body else {
            return Envelope(id: envelope.id, body: .failure(Failure(.malformed, "not an identify request")))
        }
        return Envelope(id: envelope.id, body: identity(source, challenge: challenge))
    }

    private static func identity(_ source: IdentitySource?, challenge: [UInt8]) -> Envelope.Body {
        guard let source else { return .failure(Failure(.wrongState, "this HSM has been wiped")) }
        do {
            return .identity(
                try source.keys.signedIdentity(challenge: challenge, domain: source.domain.map { ($0.id, $0.epoch) }))
        } catch {
            return .failure(Failure(.internal, "signing the identity failed"))
        }
    }

    /// A session's Sig1, a command or a domain token to verify outside the server's lock, with what it is
    /// verified against (``preverification(for:now:)``).
    public struct Preverification: Sendable {
        fileprivate enum Work: Sendable {
            case sessionInit(SignedInit, P384PublicKey)
            case command(SignedCommand, DomainMembership, HSMKeys, WireTime)
            case token(DomainToken, DomainMembership, HSMKeys)
        }
        fileprivate let work: Work
    }

    /// What verifying `body` outside the lock needs, when the core would verify its signatures: a
    /// `sessionInit` whose checks before Sig1 pass (``sessionInitKey(_:now:)``), a command, or a domain token
    /// (other than a relay of the current state), sent to an operational HSM. Nil for every other request,
    /// which ``handle(_:now:random:proof:)`` answers without public-key work (`identify` is signed outside
    /// the lock by ``identify(_:source:)``) or refuses before any.
    public func preverification(for body: Envelope.Body, now: WireTime) -> Preverification? {
        guard case .operational(let keys, let membership, _) = state else { return nil }
        switch body {
        case .sessionInit(let signedInit):
            return sessionInitKey(signedInit, now: now).map { Preverification(work: .sessionInit(signedInit, $0)) }
        case .command(let signed):
            return Preverification(work: .command(signed, membership, keys, now))
        case .applyToken(let token) where !Self.isRelay(token, of: membership):
            return Preverification(work: .token(token, membership, keys))
        default:
            return nil
        }
    }

    /// Verifies a ``Preverification`` (no lock, no state): the proof for ``handle(_:now:random:proof:)``,
    /// or the failure the core would have answered with, word for word, had the request found the state
    /// the preverification was taken from. When another request changed the state in between, the answer
    /// is the one for the earlier state (as if this request had come first), which is at worst a refusal:
    /// a proof is never used for a state it was not made for. The copies of the membership and keys it
    /// holds live until it returns, even if the core is wiped meanwhile.
    public static func preverify(_ preverification: Preverification) -> Result<Proof, Failure> {
        do {
            switch preverification.work {
            case .sessionInit(let signedInit, let key):
                guard let verified = verifySessionInit(signedInit, key: key) else {
                    return .failure(SessionAcceptor.badSignature(signedInit.initMessage.hostID))
                }
                return .success(.sessionInit(verified))
            case .command(let signed, let membership, let keys, let now):
                return .success(.command(try DomainEngine.verify(signed, membership: membership, hsm: keys, now: now)))
            case .token(let token, let membership, let keys):
                return .success(.token(try DomainEngine.verify(token, to: membership, hsm: keys)))
            }
        } catch {
            return .failure(Failure(error.failureCode, error.message))
        }
    }

    /// Whether `token` is the state `membership` already holds (hosts relay adopted states, and so may an
    /// operator): answered with the HSM's own token, nothing verified or changed.
    private static func isRelay(_ token: DomainToken, of membership: DomainMembership) -> Bool {
        token.state.epoch == membership.state.epoch && token.state.digest == membership.state.digest
    }

    private mutating func execute(
        _ signed: SignedCommand, keys: HSMKeys, membership: DomainMembership?, sessions: SessionService, now: WireTime,
        random: inout some RandomSource, proof: VerifiedCommand? = nil
    ) -> (Envelope.Body, Effect) {
        do {
            let outcome = try DomainEngine.execute(
                signed, membership: membership, hsm: keys, now: now, random: &random, proof: proof)
            if let next = outcome.membership {
                state = .operational(keys, next, sessions.adopting(next, now: now))
                return (.token(outcome.token), .none)
            }
            // domain.leave: answer with the token, then wipe everything and start over (§5).
            let fresh = HSMKeys.generate()
            state = .uninitialized(fresh)
            return (.token(outcome.token), .restartedWithNewIdentity(hsmID: fresh.hsmID))
        } catch {
            return (.failure(Failure(error.failureCode, error.message)), .none)
        }
    }
}
