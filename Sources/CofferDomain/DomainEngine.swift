import CofferCrypto
import CofferWire

/// What an operational HSM knows of its domain: the verified state, the domain keys (secret), and the
/// token that carried them (answered to `currentToken`).
public struct DomainMembership: Sendable {
    /// The current state.
    public let state: DomainState
    /// The domain keys, `keys[0]` active, in the state's order.
    public let keys: [DomainKey]
    /// The token of the current state.
    public let token: DomainToken

    /// The key with `keyID`, if the domain still holds it.
    public func key(_ keyID: [UInt8]) -> DomainKey? { keys.first { $0.keyID == keyID } }
}

/// Quorum-signed command execution and token application as pure functions of (HSM keys, what the HSM
/// knows, the message, the time, randomness) — PROTOCOL §5 and §6. The HSM process wraps these; tests
/// call them directly.
public enum DomainEngine {
    /// The result of executing a command.
    public struct Outcome: Sendable {
        /// The token to answer with and to relay to the other members.
        public let token: DomainToken
        /// What the HSM knows afterwards; nil after `domain.leave` (the HSM then wipes everything).
        public let membership: DomainMembership?
    }

    /// The result of applying another member's token.
    public enum Applied: Sendable {
        /// The HSM moved to the token's state.
        case updated(DomainMembership)
        /// The new state no longer lists this HSM: it answers with the token, then wipes everything.
        case removed
    }

    /// Executes `signed` on an HSM holding `hsm` and knowing `membership` (nil when uninitialized).
    /// `proof`, from ``verify(_:membership:hsm:now:)``, stands in for verifying the command's approvals
    /// again when it is for this command, this state and this time; otherwise the command is verified here.
    public static func execute(
        _ signed: SignedCommand, membership: DomainMembership?, hsm: HSMKeys, now: WireTime,
        random: inout some RandomSource, proof: VerifiedCommand? = nil
    ) throws(DomainError) -> Outcome {
        guard let membership else {
            switch signed.command.command {
            case DomainCommand.create: return try create(signed, hsm: hsm, now: now, random: &random)
            case DomainCommand.join: return try join(signed, hsm: hsm, now: now)
            case DomainCommand.recover:
                throw DomainError(.malformed, "domain.recover is sent as a recover request, with its chain and shares")
            default: throw DomainError(.wrongState, "an uninitialized HSM executes only domain.create and domain.join")
            }
        }
        let state = membership.state
        try checkExecutes(signed, state: state, hsm: hsm)
        let verified: CommandVerifier.Verified
        if let proof, proof.applies(to: signed, state: state, hsm: hsm, now: now) {
            verified = proof.verified
        } else {
            verified = try CommandVerifier.verify(signed, against: state, now: now)
        }
        var keys = membership.keys
        var newKey: DomainKeyInfo?
        if verified.arguments == .rotateKeys {
            var keyID = random.bytes(count: WireLimits.domainKeyIDLength)
            while state.domainKeys.contains(where: { $0.keyID == keyID }) {
                keyID = random.bytes(count: WireLimits.domainKeyIDLength)
            }
            newKey = DomainKeyInfo(keyID: keyID, created: now)
            keys.insert(DomainKey(keyID: keyID, material: random.secret(count: 32)), at: 0)
        }
        let next = try DomainTransition.apply(verified.arguments, to: state, executor: hsm.hsmID, newKey: newKey)
        keys = next.domainKeys.compactMap { info in keys.first { $0.keyID == info.keyID } }
        let token = try DomainTokenSealer.export(
            state: next, authorization: signed, keys: keys, exporter: hsm, random: &random)
        if case .leave = verified.arguments { return Outcome(token: token, membership: nil) }
        return Outcome(token: token, membership: DomainMembership(state: next, keys: keys, token: token))
    }

    /// What a member checks before verifying a command's approvals: the command is not one of an
    /// uninitialized HSM's, and this HSM is an online member of `state`.
    static func checkExecutes(_ signed: SignedCommand, state: DomainState, hsm: HSMKeys) throws(DomainError) {
        guard ![DomainCommand.create, DomainCommand.join, DomainCommand.recover].contains(signed.command.command) else {
            throw DomainError(.wrongState, "this HSM is already a member of domain \(Hex.encode(state.domainID))")
        }
        guard state.members.contains(where: { hsm.isMember($0) && $0.kind == .online }) else {
            throw DomainError(.wrongState, "only an online member executes commands")
        }
    }

    /// Verifies `signed` as an operational member holding `hsm` would before executing it: the same
    /// checks, in the same order, with the same errors as ``execute(_:membership:hsm:now:random:proof:)``.
    /// Pure and without randomness; what it returns is handed to `execute` under the HSM's lock.
    public static func verify(
        _ signed: SignedCommand, membership: DomainMembership, hsm: HSMKeys, now: WireTime
    ) throws(DomainError) -> VerifiedCommand {
        let state = membership.state
        try checkExecutes(signed, state: state, hsm: hsm)
        return VerifiedCommand(
            hsmID: hsm.hsmID, command: signed, stateDigest: state.digest, now: now,
            verified: try CommandVerifier.verify(signed, against: state, now: now))
    }

    /// Verifies and opens `token` as ``apply(_:to:hsm:proof:)`` would, without changing anything.
    public static func verify(
        _ token: DomainToken, to membership: DomainMembership, hsm: HSMKeys
    ) throws(DomainError) -> VerifiedToken {
        VerifiedToken(
            hsmID: hsm.hsmID, token: token, previousDigest: membership.state.digest,
            applied: try apply(token, to: membership, hsm: hsm))
    }

    /// Applies a token another member produced (§5): verifies it as the successor of the current state,
    /// then opens the keys — or reports that this HSM was removed. `proof`, from
    /// ``verify(_:to:hsm:)``, is the result when it is for this token and this state; otherwise the token
    /// is verified and opened here.
    public static func apply(
        _ token: DomainToken, to membership: DomainMembership, hsm: HSMKeys, proof: VerifiedToken? = nil
    ) throws(DomainError) -> Applied {
        if let proof, proof.applies(to: token, state: membership.state, hsm: hsm) { return proof.applied }
        try TokenVerifier.verifySuccessor(token, of: membership.state)
        guard token.state.members.contains(where: { hsm.isMember($0) }) else { return .removed }
        let keys = try DomainTokenSealer.open(token, as: hsm)
        return .updated(DomainMembership(state: token.state, keys: keys, token: token))
    }

    /// Executes `domain.recover` on an uninitialized HSM (docs/protocol.md, "Recovery"), stopping at the
    /// first failure: the arguments and that they name this HSM; the shares' headers (one kit, a recovery
    /// member of the chain's last state, sealed to this HSM, at least its threshold); the command against
    /// the last state (domain, base, time window, approvals, rule); the identity it names (self-signed,
    /// uninitialized); the chain from the anchor the command pins; the shares opened and rebuilding the
    /// member's key; the last token's keys, opened as the recovery member. The new state lists the
    /// recovery members and this HSM as its one online member; the recovery key is released on return.
    public static func recover(
        _ request: RecoverRequest, hsm: HSMKeys, now: WireTime, random: inout some RandomSource
    ) throws(DomainError) -> Outcome {
        let signed = request.command
        guard signed.command.command == DomainCommand.recover else {
            throw DomainError(.malformed, "a recover request carries domain.recover, not \(signed.command.command)")
        }
        guard let last = request.chain.last else { throw DomainError(.wrongGenesis, "no tokens") }
        // The cheap checks first (no signature, no ECDH), so a bad request costs the HSM little.
        let arguments: DomainRecover
        do {
            guard
                case .recover(let parsed) = try CommandArguments(
                    command: signed.command.command, arguments: signed.command.arguments)
            else { throw DomainError(.malformed, "domain.recover arguments") }
            arguments = parsed
        } catch let error as DomainError {
            throw error
        } catch {
            throw DomainError(.malformed, "domain.recover arguments: \(error)")
        }
        let identity = arguments.member.identity
        guard identity.signingKey == hsm.signingPublicKey, identity.agreementKey == hsm.agreementPublicKey else {
            throw DomainError(.invalidArgument, "domain.recover names another HSM (\(identity.hsmID))")
        }
        _ = try RecoveryShares.checkHeaders(request.shares, state: last.state, hsm: hsm)
        let verified = try CommandVerifier.verify(signed, against: last.state, now: now)
        try DomainTransition.checkNewMember(MemberAddition(identity: arguments.member, kind: .online), "domain.recover")
        _ = try TokenVerifier.verifyChain(request.chain, anchor: arguments.anchor)
        let (member, recoveryKey) = try RecoveryShares.rebuild(request.shares, state: last.state, hsm: hsm)
        let keys = try DomainTokenSealer.open(last, as: member, agreement: recoveryKey)
        let next = try DomainTransition.apply(verified.arguments, to: last.state, executor: hsm.hsmID, newKey: nil)
        let token = try DomainTokenSealer.export(
            state: next, authorization: signed, keys: keys, exporter: hsm, random: &random)
        return Outcome(token: token, membership: DomainMembership(state: next, keys: keys, token: token))
    }

    private static func create(
        _ signed: SignedCommand, hsm: HSMKeys, now: WireTime, random: inout some RandomSource
    ) throws(DomainError) -> Outcome {
        let create = try CommandVerifier.verifyCreate(signed, now: now)
        let identity = create.member.identity.identity
        guard identity.signingKey == hsm.signingPublicKey, identity.agreementKey == hsm.agreementPublicKey else {
            throw DomainError(.invalidArgument, "domain.create names another HSM (\(identity.hsmID)) as its member")
        }
        let first = DomainKey(
            keyID: random.bytes(count: WireLimits.domainKeyIDLength), material: random.secret(count: 32))
        let state = try DomainTransition.genesis(
            create, domainID: signed.command.domainID, firstKey: DomainKeyInfo(keyID: first.keyID, created: now))
        let token = try DomainTokenSealer.export(
            state: state, authorization: signed, keys: [first], exporter: hsm, random: &random)
        return Outcome(token: token, membership: DomainMembership(state: state, keys: [first], token: token))
    }

    private static func join(_ signed: SignedCommand, hsm: HSMKeys, now: WireTime) throws(DomainError) -> Outcome {
        let command = signed.command
        guard case .join(let token)? = try? CommandArguments(command: command.command, arguments: command.arguments)
        else { throw DomainError(.malformed, "domain.join arguments") }
        // The token's own rules and parameters authenticate the command (§5).
        _ = try CommandVerifier.verify(signed, against: token.state, now: now)
        guard let exporter = token.state.members.first(where: { $0.hsmID == token.exporter && $0.kind == .online })
        else {
            throw DomainError(.badExporter, "exporter \(token.exporter) is not an online member")
        }
        try TokenVerifier.checkSignature(token, by: exporter)
        try TokenVerifier.checkRecipients(token)
        guard token.state.members.contains(where: { hsm.isMember($0) && $0.kind == .online }) else {
            throw DomainError(.invalidArgument, "the token does not list this HSM (\(hsm.hsmID)) as an online member")
        }
        let keys = try DomainTokenSealer.open(token, as: hsm)
        return Outcome(token: token, membership: DomainMembership(state: token.state, keys: keys, token: token))
    }
}
