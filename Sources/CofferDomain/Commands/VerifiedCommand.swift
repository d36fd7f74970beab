import CofferWire

/// A command whose approvals one HSM verified (§5 steps 0–5) against one state at one time, by
/// ``DomainEngine/verify(_:membership:hsm:now:)``.
///
/// The public-key work of a command (one signature per approval, which anyone who reaches an HSM's
/// socket can ask for) is done before the HSM takes its lock.
/// ``DomainEngine/execute(_:membership:hsm:now:random:proof:)`` accepts the proof only on the same HSM,
/// for the same command, state and time: if the state moved in between, the command is verified again.
public struct VerifiedCommand: Sendable {
    let hsmID: String
    let command: SignedCommand
    let stateDigest: [UInt8]
    let now: WireTime
    let verified: CommandVerifier.Verified

    func applies(to signed: SignedCommand, state: DomainState, hsm: HSMKeys, now: WireTime) -> Bool {
        hsmID == hsm.hsmID && self.now == now && stateDigest == state.digest && command == signed
    }
}
