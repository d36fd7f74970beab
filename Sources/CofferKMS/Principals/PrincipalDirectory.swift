import CofferCrypto
import CofferPolicy
import CofferStore
import CofferWire
import Logging
import Synchronization

/// Who signed with an access key of the store, and the day's SigV4 key to check the signature with.
public struct AuthenticatedCaller: Sendable {
    /// `kDate = HMAC("AWS4" + secret, day)` for the day asked.
    public let dateKey: SecretBytes
    /// The principal's account.
    public let account: String
    /// The principal's ARN.
    public let principal: String
    /// The principal's identity policies (parsed once per change).
    public let identityPolicies: [PolicyDocument]
}

/// The host's view of the store's principals (``KMSService/addPrincipal(name:kind:account:policy:accessKey:)``):
/// an access key id is looked up in the store, and an HSM derives the day's SigV4 key from the sealed
/// secret. Both are cached: the record for ``refreshInterval`` seconds (so a removed or rotated key stops
/// working on every host within that bound, and a new one works at once), the day keys while the record
/// stays the same. Unknown ids are not cached.
public final class PrincipalDirectory: Sendable {
    /// How long a cached access key is trusted before the store is read again, in seconds.
    public static let refreshInterval: Int64 = 5
    /// The most access keys cached; past it the cache starts afresh.
    public static let cacheLimit = 10_000
    /// The most day keys kept per access key (a request's day is within 15 minutes of now: at most two
    /// days are live at once).
    static let dayKeysPerAccessKey = 3

    private struct Entry {
        var key: AccessKeyRecord
        var principal: PrincipalRecord
        var policies: [PolicyDocument]
        var checkedAt: Int64
        var dayKeys: [String: SecretBytes]
    }

    /// What an unreadable identity policy is replaced with: a Deny of every action.
    static let denyAll: [PolicyDocument] =
        (try? PolicyDocument(
            json:
                #"{"Version":"2012-10-17","Statement":[{"Sid":"UnreadableIdentityPolicy","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            kind: .identityPolicy)).map { [$0] } ?? []
    /// How long an unknown access key id is remembered as unknown, in seconds: requests with made-up ids
    /// cost one store read a second each, not one per request.
    public static let unknownInterval: Int64 = 1

    private let kms: KMSService
    private let unknown = Mutex<[String: Int64]>([:])
    private let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])

    /// A directory of the principals in `kms`'s store, deriving day keys on its HSMs.
    public init(kms: KMSService, logger: Logger) {
        self.kms = kms
        self.logger = logger
    }

    /// The caller of `accessKeyID` with its key for `day` (`yyyyMMdd`), or nil for an unknown access key.
    /// Throws when the store or the HSM fails.
    public func caller(accessKeyID: String, day: String) async throws(KMSError) -> AuthenticatedCaller? {
        guard AccessKeySecrets.isAccessKeyID(accessKeyID), day.utf8.count == 8 else { return nil }
        let now = kms.now
        if let missed = unknown.withLock({ $0[accessKeyID] }), now >= missed, now - missed < Self.unknownInterval {
            return nil
        }
        var entry: Entry
        // Written back only when it changed (a store read, a new day key): a cached caller costs two reads.
        var changed = false
        if let cached = entries.withLock({ $0[accessKeyID] }), now - cached.checkedAt < Self.refreshInterval,
            now >= cached.checkedAt
        {
            entry = cached
        } else {
            guard let fresh = try await load(accessKeyID, now: now) else {
                entries.withLock { _ = $0.removeValue(forKey: accessKeyID) }
                unknown.withLock { unknown in
                    if unknown.count >= Self.cacheLimit { unknown.removeAll(keepingCapacity: true) }
                    unknown[accessKeyID] = now
                }
                return nil
            }
            entry = fresh
            changed = true
        }
        let dateKey: SecretBytes
        if let known = entry.dayKeys[day] {
            dateKey = known
        } else {
            guard let token = AccessKeySecrets.token(entry.key.token, of: accessKeyID, principal: entry.principal.arn),
                Self.account(of: entry.principal.arn).map(String.init) == entry.principal.account
            else {
                logger.error(
                    "a stored access key's token or principal does not belong to it",
                    metadata: ["accessKeyId": "\(accessKeyID)"])
                return nil
            }
            guard
                case .sharedSecret(let derived) = try await kms.hsmCall(.deriveSigV4DateKey(key: token, day: day))
            else { throw KMSError(.internal, "the HSM did not derive the day key") }
            dateKey = derived
            if entry.dayKeys.count >= Self.dayKeysPerAccessKey { entry.dayKeys.removeAll() }
            entry.dayKeys[day] = dateKey
            changed = true
        }
        if changed {
            let written = entry
            entries.withLock { entries in
                if entries.count >= Self.cacheLimit, entries[accessKeyID] == nil {
                    entries.removeAll(keepingCapacity: true)
                }
                entries[accessKeyID] = written
            }
        }
        return AuthenticatedCaller(
            dateKey: dateKey, account: entry.principal.account, principal: entry.principal.arn,
            identityPolicies: entry.policies)
    }

    /// The account field of an IAM ARN (`arn:aws:iam::ACCOUNT:…`).
    static func account(of arn: String) -> Substring? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 ? parts[4] : nil
    }

    /// The access key's record from the store, keeping the cached day keys and parsed policies when
    /// nothing they depend on changed.
    private func load(_ accessKeyID: String, now: Int64) async throws(KMSError) -> Entry? {
        let store = kms.store
        guard let found = try await kms.storeCall({ () throws(StoreError) in try await store.accessKey(accessKeyID) })
        else { return nil }
        let cached = entries.withLock { $0[accessKeyID] }
        let sameKey = cached?.key == found.key
        let policies: [PolicyDocument]
        if let cached, cached.principal.policy == found.principal.policy {
            policies = cached.policies
        } else if let text = found.principal.policy {
            // Checked when it was set; one that no longer parses (edited in the database, or written by a
            // newer Coffer) denies everything: dropping it would drop its Deny statements too.
            if let parsed = try? PolicyDocument(json: text, kind: .identityPolicy) {
                policies = [parsed]
            } else {
                logger.error(
                    "a principal's identity policy does not parse: it denies everything",
                    metadata: ["principal": "\(found.principal.arn)"])
                policies = Self.denyAll
            }
        } else {
            policies = []
        }
        return Entry(
            key: found.key, principal: found.principal, policies: policies, checkedAt: now,
            dayKeys: sameKey ? cached?.dayKeys ?? [:] : [:])
    }
}
