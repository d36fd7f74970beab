import CofferWire

/// The `SessionInit`s this HSM has accepted (by `H(DER(SessionInit))`, the message without its signature),
/// kept until `time + clockSkew` (after which §7's time check refuses them anyway): a captured init sent
/// again within the skew, with its signature or another one, is refused with `replay` before any
/// signature is checked, instead of costing a whole handshake (a key pair, an ECDH, a signature). Only
/// accepted inits are recorded, so nobody without a host's key can fill the table; when it is full of
/// live entries, new inits are refused `overloaded` rather than forgetting one that could be replayed.
struct SeenInits: Sendable {
    /// How many accepted inits one HSM remembers (at most `clockSkew` seconds' worth of handshakes).
    static let capacity = 65_536

    private var seen: [[UInt8]: WireTime] = [:]

    /// Throws `replay` for an init accepted before, `overloaded` when there is no room to remember one.
    mutating func check(_ digest: [UInt8], now: WireTime) throws(Failure) {
        if let expires = seen[digest], now <= expires {
            throw Failure(.replay, "this SignedInit was accepted before")
        }
        if seen.count >= Self.capacity {
            seen = seen.filter { $0.value >= now }
            guard seen.count < Self.capacity else {
                throw Failure(.overloaded, "too many sessions opened within clockSkew")
            }
        }
    }

    /// Whether `digest` was accepted before and is still remembered (``check(_:now:)`` without its upkeep).
    func isReplay(_ digest: [UInt8], now: WireTime) -> Bool {
        seen[digest].map { now <= $0 } ?? false
    }

    /// Records an accepted init until `expires`.
    mutating func record(_ digest: [UInt8], expires: WireTime) { seen[digest] = expires }

    /// How many are remembered (for tests).
    var count: Int { seen.count }
}
