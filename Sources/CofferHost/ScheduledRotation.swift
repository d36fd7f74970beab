import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferKMS
import CofferWire
import Crypto
import Logging
import Metrics

/// When a host rotates the domain keys on its own (PROTOCOL §5 `domain.rotateKeys`, no protocol change):
/// operators pre-authorize it by registering the host's signing key as an operator whose roles meet an
/// alternative of the `domain.rotateKeys` rule alone, for example
/// `--upsert host-1:scheduled-rotation=host-1.pub.pem` and `domain.rotateKeys=admin:2|scheduled-rotation:1`.
/// The rule is theirs to set and to take back; no other rule should name that role. The host then signs
/// and submits a rotation once the active domain key is `interval` seconds old, and not while a key the
/// rotation would drop still seals a stored token (the re-wrap job moves them first).
///
/// Pure: the state and the time are passed in (tests decide every case without an HSM).
public struct RotationSchedule: Sendable, Equatable {
    /// One day, as AWS KMS rotates its domain keys.
    public static let defaultInterval: Int64 = 86_400

    /// Seconds between rotations; 0 turns scheduling off.
    public let interval: Int64
    /// The host's public signing key, looked for among the operators.
    public let hostKey: P384PublicKey

    /// A schedule.
    public init(interval: Int64, hostKey: P384PublicKey) {
        self.interval = interval
        self.hostKey = hostKey
    }

    /// What the schedule says of `state` at `now`.
    public enum Plan: Sendable, Equatable {
        /// The host does not rotate on its own, and why.
        case off(String)
        /// Not before `until` (the active key's creation + the interval).
        case notDue(until: Int64)
        /// A rotation is due, approved as operator `signer` and executed by the member `executor` only; it
        /// would drop the domain keys `drops`.
        case due(signer: String, executor: String, drops: [[UInt8]])
    }

    /// The plan for `state` at `now`.
    ///
    /// Besides the rule, it refuses what would make a host's permission dangerous: the host must be a
    /// host of the domain (a removed host's key keeps no power), its operator's roles must count in no
    /// other rule (it may rotate and do nothing else), and a retention of 1 would drop the active key.
    /// One host and one HSM act for the whole domain, chosen from the state alone so every host agrees:
    /// the pre-authorized host with the lowest id rotates, and the online member with the lowest hsmID
    /// executes. The same signed command executed by two HSMs, or two commands on one base by two hosts,
    /// would fork the domain into two states at the same epoch.
    public func plan(state: DomainState, now: Int64) -> Plan {
        guard interval > 0 else { return .off("scheduled rotation is turned off (interval 0)") }
        guard let host = state.hosts.first(where: { $0.signingKey == hostKey }) else {
            return .off("this host's key is not a host of the domain")
        }
        guard let signer = Self.rotator(of: host, in: state) else {
            return .off(
                "no operator of the domain holds this host's signing key and meets the domain.rotateKeys rule alone "
                    + "(docs/operators.md, scheduled rotation)")
        }
        if let other = state.rules.first(where: { rule in
            rule.command != DomainCommand.rotateKeys
                && rule.alternatives.contains { $0.requirements.contains { signer.roles.contains($0.role) } }
        }) {
            return .off("operator \(signer.id) (this host's key) also counts for \(other.command): it may only rotate")
        }
        if let first = state.hosts.sorted(by: { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) })
            .first(where: { Self.rotator(of: $0, in: state) != nil }), first.id != host.id
        {
            return .off("host \(first.id) rotates for the domain (the pre-authorized host with the lowest id)")
        }
        guard state.parameters.domainKeyRetention >= 2 else {
            return .off("domainKeyRetention is 1: every rotation would drop the active key")
        }
        guard
            let executor = state.members.filter({ $0.kind == .online }).map(\.hsmID)
                .min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        else { return .off("the domain has no online member") }
        guard let active = state.activeKey else { return .off("the domain holds no domain key") }
        let dueAt = active.created.secondsSinceEpoch + interval
        guard now >= dueAt else { return .notDue(until: dueAt) }
        // The new state keeps the first `domainKeyRetention` of [new key] + domainKeys (§5).
        let kept = state.parameters.domainKeyRetention - 1
        return .due(signer: signer.id, executor: executor, drops: Array(state.domainKeys.dropFirst(kept).map(\.keyID)))
    }

    /// The operator holding `host`'s key whose roles alone meet the `domain.rotateKeys` rule, if any.
    static func rotator(of host: Host, in state: DomainState) -> Operator? {
        guard
            let signer = state.operators.first(where: { $0.signingKey == host.signingKey }),
            let rule = state.rules.first(where: { $0.command == DomainCommand.rotateKeys }),
            Quorum.evaluate(rule.alternatives, signers: [Quorum.Signer(id: signer.id, roles: signer.roles)]) != nil
        else { return nil }
        return signer
    }

    /// Stored tokens still sealed under the keys a rotation would drop: while any is, the rotation waits.
    public static func tokensBlocking(drops: [[UInt8]], census: TokenCensus) -> Int {
        drops.map { census.byDomainKey[Hex.encode($0)] ?? 0 }.reduce(0, +)
    }
}

/// The host's scheduled rotation, run at the end of each upkeep round: it follows the
/// ``RotationSchedule`` and does the I/O through the closures it is given (a census of the store, a
/// submission to the HSM pool).
public actor ScheduledRotation {
    /// What a round did.
    public enum Outcome: Sendable, Equatable {
        /// Scheduling is off (the reason is logged once).
        case off
        /// No rotation is due yet.
        case notDue
        /// A rotation is due and waits: this many stored tokens are still under a key it would drop.
        case waiting(tokens: Int)
        /// A rotation is due and waits for every member to be at the host's epoch (a member behind would
        /// still seal new tokens under a key the census did not count), or for the executor to answer.
        case waitingForMembers
        /// The domain keys rotated; the new state's epoch.
        case rotated(epoch: Int64)
        /// The HSM refused or could not be reached (another host rotated first: `staleBase`); tried again
        /// next round.
        case failed(String)
    }

    private let schedule: RotationSchedule
    private let hostKey: P384.Signing.PrivateKey
    private let logger: Logger
    private var lastOffReason: String?

    /// A scheduled rotation signing with `hostKey` every `interval` seconds.
    public init(interval: Int64, hostKey: P384.Signing.PrivateKey, logger: Logger) {
        schedule = RotationSchedule(interval: interval, hostKey: P384PublicKey(hostKey.publicKey))
        self.hostKey = hostKey
        self.logger = logger
    }

    /// Rotates if the schedule says so and no stored token would be lost. `membersInStep` says whether
    /// every member of the last health check answered at the host's epoch; `clock` is read for the
    /// command's issue time after the census, which may take a while; `submit` hands the command to the
    /// executor named and nobody else.
    public func runIfDue(
        state: DomainState, now: Int64, membersInStep: Bool,
        clock: @Sendable () -> Int64 = { WireTime.now.secondsSinceEpoch },
        census: @Sendable () async throws -> TokenCensus,
        submit: @Sendable (SignedCommand, _ executor: String) async throws -> DomainToken
    ) async -> Outcome {
        let signer: String
        let executor: String
        let drops: [[UInt8]]
        switch schedule.plan(state: state, now: now) {
        case .off(let reason):
            if reason != lastOffReason {
                logger.info("no scheduled domain-key rotation", metadata: ["why": "\(reason)"])
            }
            lastOffReason = reason
            return .off
        case .notDue:
            lastOffReason = nil
            Gauge(label: "coffer_domain_rotation_blocked_tokens").record(0)
            return .notDue
        case .due(let who, let executing, let dropped):
            lastOffReason = nil
            (signer, executor, drops) = (who, executing, dropped)
        }
        guard membersInStep else {
            logger.notice("the scheduled domain-key rotation waits for every HSM to be at the host's epoch")
            return .waitingForMembers
        }
        if !drops.isEmpty {
            let blocking: Int
            do {
                blocking = RotationSchedule.tokensBlocking(drops: drops, census: try await census())
            } catch {
                return failed("cannot count the stored tokens: \(error)")
            }
            Gauge(label: "coffer_domain_rotation_blocked_tokens").record(blocking)
            if blocking > 0 {
                logger.warning(
                    "the scheduled domain-key rotation waits: a key it would drop still seals stored tokens",
                    metadata: ["tokens": "\(blocking)", "dropped": "\(drops.map(Hex.encode))"])
                Counter(label: "coffer_domain_rotations_total", dimensions: [("result", "waiting")]).increment()
                return .waiting(tokens: blocking)
            }
        }
        // Valid long enough for an HSM whose clock is ahead by up to the domain's clock skew.
        var random = SystemRandom()
        let parameters = state.parameters
        let command = CommandBuilder.command(
            .rotateKeys, base: state, issuedAt: WireTime(secondsSinceEpoch: clock()),
            lifetime: min(Int64(parameters.commandMaxAge), Int64(parameters.clockSkew) + 300), random: &random)
        let token: DomainToken
        do {
            let approval = try CommandBuilder.approve(command, as: signer, key: hostKey)
            token = try await submit(SignedCommand(command: command, approvals: [approval]), executor)
        } catch {
            return failed("\(error)")
        }
        Counter(label: "coffer_domain_rotations_total", dimensions: [("result", "rotated")]).increment()
        logger.notice(
            "rotated the domain keys on schedule",
            metadata: [
                "epoch": "\(token.state.epoch)",
                "active": "\(token.state.activeKey.map { Hex.encode($0.keyID) } ?? "")",
            ])
        return .rotated(epoch: token.state.epoch)
    }

    private func failed(_ why: String) -> Outcome {
        Counter(label: "coffer_domain_rotations_total", dimensions: [("result", "failed")]).increment()
        logger.warning("the scheduled domain-key rotation did not happen this round", metadata: ["why": "\(why)"])
        return .failed(why)
    }
}
