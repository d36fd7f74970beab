import CofferStore
import Synchronization

/// The backing keys of recently used keys, so that a cryptographic request reads its key's record from
/// the store but not, again, its backing keys.
///
/// An entry is used only for the same record version: every change to a key's backing keys (rotation,
/// import, expiry, a replica's copy) bumps the version of the row the request just read, so no request
/// uses backing keys older than its key record. What does not bump the version is the re-wrap job
/// replacing a token by the same key under a newer domain key; an entry lives ``lifetime`` seconds, far
/// less than the domain keys' turnover (a rotation waits until no stored token needs the key it drops),
/// so a cached token always still opens. Bounded: past ``limit`` entries the cache starts afresh.
final class BackingKeyCache: Sendable {
    /// Seconds an entry is used.
    static let lifetime: Int64 = 5
    /// The most keys cached.
    static let limit = 10_000

    private struct Place: Hashable {
        let scope: KeyScope
        let id: String
    }

    private struct Entry {
        let version: Int64
        let backing: [BackingKeyRecord]
        let cachedAt: Int64
    }

    private let entries = Mutex<[Place: Entry]>([:])

    /// The backing keys of `record` (at its version), if cached and fresh at `now`.
    func backingKeys(of record: KeyRecord, now: Int64) -> [BackingKeyRecord]? {
        entries.withLock { entries in
            guard let entry = entries[Place(scope: record.scope, id: record.id)], entry.version == record.version,
                now >= entry.cachedAt, now - entry.cachedAt < Self.lifetime
            else { return nil }
            return entry.backing
        }
    }

    /// Forgets every entry (a re-wrap pass is replacing tokens).
    func removeAll() {
        entries.withLock { $0.removeAll() }
    }

    /// Keeps `backing`, read from the store for `record`, at `now`.
    func keep(_ backing: [BackingKeyRecord], of record: KeyRecord, now: Int64) {
        entries.withLock { entries in
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[Place(scope: record.scope, id: record.id)] = Entry(
                version: record.version, backing: backing, cachedAt: now)
        }
    }
}
