import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// Sealed secret access keys (docs/protocol.md, "Access keys"): a `SIGV4_SECRET` backing-key token holds
/// a principal's secret, which no other command opens (it is neither a symmetric nor a signing or MAC
/// spec), and which gives out only SigV4 day keys for days around this HSM's clock. A host, or anyone
/// who can write to a store, can therefore neither MAC chosen messages with it nor derive the keys of
/// days far from now.
enum AccessKeys {
    /// The spec of a sealed secret access key.
    static let spec = "SIGV4_SECRET"
    /// How far, in seconds, the day asked for may lie from this HSM's clock: a day either side (SigV4
    /// requests are within 15 minutes of their signer's clock, which may sit in the next or previous day).
    static let dayWindow: Int64 = 86_400

    /// `kDate = HMAC-SHA-256("AWS4" ‖ secret, day)` of the secret `token` seals.
    static func dateKey(
        _ token: ExportedKeyToken, day: String, membership: DomainMembership, now: WireTime
    ) throws(Failure) -> SecretBytes {
        guard token.header.kind == .backingKey, token.header.spec == spec else {
            throw Failure(.wrongKind, "not a sealed access key")
        }
        let days = [-dayWindow, 0, dayWindow].map {
            String(
                decoding: WireTime(secondsSinceEpoch: now.secondsSinceEpoch + $0).generalizedTimeBytes.prefix(8),
                as: UTF8.self)
        }
        guard day.utf8.count == WireLimits.sigV4DayLength, day.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            days.contains(day)
        else {
            throw Failure(.invalidArgument, "the day is not yyyyMMdd within a day of the HSM's clock")
        }
        let secret = try TokenOpener.open(token, membership: membership, now: now)
        var seed = Array("AWS4".utf8)
        seed.reserveCapacity(4 + secret.count)
        secret.withUnsafeBytes { seed.append(contentsOf: $0) }
        defer { seed.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(day.utf8), using: SymmetricKey(data: seed))
        return mac.withUnsafeBytes { SecretBytes(copying: $0) }
    }
}
