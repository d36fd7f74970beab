import CofferWire

/// A domain token one HSM checked as the successor of one state and opened (or found to remove it), by
/// ``DomainEngine/verify(_:to:hsm:)``.
///
/// Its signatures and its one-pass ECDH are worked before the HSM takes its lock.
/// ``DomainEngine/apply(_:to:hsm:proof:)`` takes the result only on the same HSM (whether a token removes
/// an HSM, and which key opens it, is the HSM's own) and for the same token and state (so an old proof
/// cannot move an HSM back to an earlier state).
public struct VerifiedToken: Sendable {
    let hsmID: String
    let token: DomainToken
    let previousDigest: [UInt8]
    let applied: DomainEngine.Applied

    func applies(to token: DomainToken, state: DomainState, hsm: HSMKeys) -> Bool {
        hsmID == hsm.hsmID && previousDigest == state.digest && self.token == token
    }
}
