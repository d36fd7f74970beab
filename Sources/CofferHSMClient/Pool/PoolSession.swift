import CofferWire

/// What the pool needs to know of a session to decide when to use, renew or drop it.
package protocol PoolSession: Sendable {
    /// When the session token expires (seconds since the epoch).
    var expiresAt: Int64 { get }
    /// When renegotiation should begin: 80 % of the lifetime (PROTOCOL §7).
    var renewsAt: Int64 { get }
    /// `H(DER(ekt))`, naming the session in refusals.
    var digest: [UInt8] { get }
}

extension Session: PoolSession {
    /// `notAfter` in seconds.
    package var expiresAt: Int64 { notAfter.secondsSinceEpoch }
    /// `renewAt` in seconds.
    package var renewsAt: Int64 { renewAt.secondsSinceEpoch }
    /// `ektDigest`.
    package var digest: [UInt8] { ektDigest }
}
