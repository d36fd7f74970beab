import CofferCrypto
import CofferStore
import CofferWire

/// How many stored tokens each domain key seals: what `coffer host status` shows, and what decides
/// whether a rotation may drop a key (a dropped key takes every token it still seals with it).
public struct TokenCensus: Hashable, Sendable {
    /// Stored tokens by the hex id of the domain key that sealed them.
    public var byDomainKey: [String: Int] = [:]
    /// Stored tokens that do not parse as a token (a damaged row; never written by Coffer).
    public var unreadable = 0

    /// How many tokens a census reads from the store at a time.
    public static let pageSize = 500

    /// An empty census.
    public init() {}

    /// Every token counted.
    public var total: Int { byDomainKey.values.reduce(unreadable, +) }

    mutating func count(_ domainKeyID: [UInt8]) { byDomainKey[Hex.encode(domainKeyID), default: 0] += 1 }
}

/// What one pass of the re-wrap job did (``KMSService/rewrapTokens(to:retained:batch:)``).
public struct RewrapPass: Hashable, Sendable {
    /// The active domain key every token was brought under (hex).
    public var activeDomainKey: String
    /// Tokens read.
    public var examined = 0
    /// Tokens re-sealed under the active key.
    public var rewrapped = 0
    /// Tokens another writer changed during the pass (a rotation, a re-import, another host's re-wrap):
    /// left for the next pass.
    public var changedMeanwhile = 0
    /// Tokens that could not be re-wrapped: sealed under a domain key no longer retained (their keys'
    /// ciphertexts are lost), expired, or refused by the HSM. Each is logged by place, never by content.
    public var failed = 0
    /// Whether the pass stopped early because the HSMs sealed under another key than `activeDomainKey`
    /// (the host's domain state is behind the HSMs'): the next pass, on the newer state, redoes it.
    public var stoppedBehind = false
    /// The tokens per domain key after the pass.
    public var census = TokenCensus()
}

extension TokenCensus {
    /// Counts every token stored in `store` by the domain key that sealed it (`coffer host status`).
    public static func take(
        of store: any KeyStore, batch: Int = TokenCensus.pageSize
    ) async throws(StoreError) -> TokenCensus {
        var census = TokenCensus()
        var pages = StoredTokenPages(size: batch)
        while let page = try await pages.next(from: store) {
            for stored in page {
                if let header = try? ExportedKeyToken(derEncoded: stored.token).header {
                    census.count(header.domainKeyID)
                } else {
                    census.unreadable += 1
                }
            }
        }
        return census
    }
}

extension KMSService {
    /// One pass of the re-wrap job: every stored token (backing keys, access keys' secrets) sealed under a
    /// domain key other than `active` is re-sealed by an HSM (`rewrapToken`) and replaced in the store only
    /// if it still holds what was read, so a change made meanwhile is never undone and several hosts may
    /// run passes at once. A token under a key not in `retained` cannot be opened by any HSM any more: it
    /// is counted as failed without asking one. A pass keeps no state of its own: a pass cut short (a
    /// crash, a restart) is simply run again, and skips what is already done.
    public func rewrapTokens(
        to active: [UInt8], retained: [[UInt8]], batch: Int = 100,
        onFailure: @Sendable (TokenPlace, String) -> Void = { _, _ in }
    ) async throws(KMSError) -> RewrapPass {
        var pass = RewrapPass(activeDomainKey: Hex.encode(active))
        // Cached backing keys may hold tokens this pass replaces, under keys a later rotation drops.
        backingCache.removeAll()
        defer { backingCache.removeAll() }
        var pages = StoredTokenPages(size: batch)
        while let page = try await storeCall({ () throws(StoreError) in try await pages.next(from: store) }) {
            for stored in page {
                pass.examined += 1
                guard let token = try? ExportedKeyToken(derEncoded: stored.token) else {
                    pass.census.unreadable += 1
                    onFailure(stored.place, "not a key token")
                    continue
                }
                let sealedBy = token.header.domainKeyID
                guard sealedBy != active, !pass.stoppedBehind else {
                    pass.census.count(sealedBy)
                    continue
                }
                guard retained.contains(sealedBy) else {
                    pass.failed += 1
                    pass.census.count(sealedBy)
                    onFailure(stored.place, "sealed under domain key \(Hex.encode(sealedBy)), no longer retained")
                    continue
                }
                switch try await hsmCall(.rewrapToken(token: token), returningFailures: true) {
                case .token(let fresh) where fresh.header.domainKeyID == active:
                    let replaced = try await storeCall { () throws(StoreError) in
                        try await store.replaceToken(at: stored.place, expected: stored.token, with: fresh.derBytes)
                    }
                    if replaced {
                        pass.rewrapped += 1
                        pass.census.count(active)
                    } else {
                        pass.changedMeanwhile += 1
                    }
                case .token:
                    // The HSM's active key is newer than the host's state: stop re-wrapping (each token would
                    // be moved twice) and count the rest as they are.
                    pass.stoppedBehind = true
                    pass.census.count(sealedBy)
                case .failure(let failure):
                    pass.failed += 1
                    pass.census.count(sealedBy)
                    onFailure(stored.place, "the HSM refused: \(failure.code)")
                default:
                    throw KMSError(.internal, "the HSM answered rewrapToken with another kind")
                }
            }
        }
        return pass
    }
}
