import CofferCrypto
import Crypto
import Synchronization

/// Signing keys `kSigning` already derived, per access key, day, region and service (issue 12): a caller
/// signs every request of a day with the same key, which is four HMACs to derive from its secret or three
/// from its day's key. An entry is used only while the caller's secret or day key is the same as when it
/// was derived (compared in constant time), so a changed secret never meets an old key. Bounded: past
/// ``limit`` entries the cache starts afresh. Keys are held as swift-crypto `SymmetricKey`s, whose memory
/// is zeroed when they are freed.
final class SigningKeyCache: Sendable {
    /// The most keys kept.
    static let limit = 1_024

    private struct Place: Hashable {
        let accessKeyID: String
        let day: String
        let region: String
        let service: String
    }

    private struct Entry {
        let source: SecretBytes
        let key: SymmetricKey
    }

    private let entries = Mutex<[Place: Entry]>([:])

    /// The signing key of `source` (a secret or a day key, as `derive` takes it) for this scope: kept, or
    /// derived with `derive` and kept.
    func key(
        accessKeyID: String, day: String, region: String, service: String, source: SecretBytes,
        derive: () -> SymmetricKey
    ) -> SymmetricKey {
        let place = Place(accessKeyID: accessKeyID, day: day, region: region, service: service)
        if let entry = entries.withLock({ $0[place] }), entry.source == source { return entry.key }
        let key = derive()
        entries.withLock { entries in
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[place] = Entry(source: source, key: key)
        }
        return key
    }

    /// How many keys are kept (for tests).
    var count: Int { entries.withLock { $0.count } }
}
