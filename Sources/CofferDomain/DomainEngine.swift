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
    public static func execute(
        _ signed: SignedCommand, membership: DomainMembership?, hsm: HSMKeys, now: WireTime,
        random: inout some RandomSource
    ) throws(DomainError) -> Outcome {
        guard let membership else {
            switch signed.command.command {
            case DomainCommand.create: return try create(signed, hsm: hsm, now: now, random: &random)
            case DomainCommand.join: return try join(signed, hsm: hsm, now: now)
            default: throw DomainError(.wrongState, "an uninitialized HSM executes only domain.create and domain.join")
            }
        }
        let state = membership.state
        guard signed.command.command != DomainCommand.create, signed.command.command != DomainCommand.join else {
            throw DomainError(.wrongState, "this HSM is already a member of domain \(Hex.encode(state.domainID))")
        }
        guard state.members.contains(where: { hsm.isMember($0) && $0.kind == .online }) else {
            throw DomainError(.wrongState, "only an online member executes commands")
        }
        let verified = try CommandVerifier.verify(signed, against: state, now: now)
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

    /// Applies a token another member produced (§5): verifies it as the successor of the current state,
    /// then opens the keys — or reports that this HSM was removed.
    public static func apply(
        _ token: DomainToken, to membership: DomainMembership, hsm: HSMKeys
    ) throws(DomainError) -> Applied {
        try TokenVerifier.verifySuccessor(token, of: membership.state)
        guard token.state.members.contains(where: { hsm.isMember($0) }) else { return .removed }
        let keys = try DomainTokenSealer.open(token, as: hsm)
        return .updated(DomainMembership(state: token.state, keys: keys, token: token))
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
