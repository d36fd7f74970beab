import CofferWire

/// A command whose approvals were verified (§5 steps 0–5) against one state at one time, by
/// ``DomainEngine/verify(_:membership:hsm:now:)``.
///
/// The public-key work of a command — one signature per approval, which anyone who reaches an HSM's
/// socket can ask for — is done before the HSM takes its lock, and ``DomainEngine/execute(_:membership:hsm:now:random:proof:)``
/// accepts the proof only for the same command, state and time: if the state moved in between, the
/// command is verified again under the lock.
public struct VerifiedCommand: Sendable {
    let command: SignedCommand
    let stateDigest: [UInt8]
    let now: WireTime
    let verified: CommandVerifier.Verified

    func applies(to signed: SignedCommand, state: DomainState, now: WireTime) -> Bool {
        self.now == now && stateDigest == state.digest && command == signed
    }
}

/// A domain token checked as the successor of one state and opened (or found to remove the HSM), by
/// ``DomainEngine/verify(_:to:hsm:)``: its signatures and its one-pass ECDH are worked outside the
/// HSM's lock, and ``DomainEngine/apply(_:to:hsm:proof:)`` takes the result only for the same token and
/// state.
public struct VerifiedToken: Sendable {
    let token: DomainToken
    let previousDigest: [UInt8]
    let applied: DomainEngine.Applied

    func applies(to token: DomainToken, state: DomainState) -> Bool {
        previousDigest == state.digest && self.token == token
    }
}

extension DomainEngine {
    /// Verifies `signed` as an operational member holding `hsm` would before executing it: the same
    /// checks, in the same order, with the same errors as ``execute(_:membership:hsm:now:random:proof:)``.
    /// Pure and without randomness; what it returns is handed to `execute` under the HSM's lock.
    public static func verify(
        _ signed: SignedCommand, membership: DomainMembership, hsm: HSMKeys, now: WireTime
    ) throws(DomainError) -> VerifiedCommand {
        let state = membership.state
        try checkExecutes(signed, state: state, hsm: hsm)
        return VerifiedCommand(
            command: signed, stateDigest: state.digest, now: now,
            verified: try CommandVerifier.verify(signed, against: state, now: now))
    }

    /// Verifies and opens `token` as ``apply(_:to:hsm:proof:)`` would, without changing anything.
    public static func verify(
        _ token: DomainToken, to membership: DomainMembership, hsm: HSMKeys
    ) throws(DomainError) -> VerifiedToken {
        VerifiedToken(
            token: token, previousDigest: membership.state.digest, applied: try apply(token, to: membership, hsm: hsm))
    }
}
