import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// What an operational HSM keeps for sessions, all volatile: anti-replay windows, seal counters per
/// domain key, and bounded caches of opened session keys and backing-key tokens (PROTOCOL §7, §8).
struct SessionService: Sendable {
    /// Opened session keys kept at most.
    static let sessionKeyCacheCapacity = 4096

    var replay = ReplayWindows()
    var seenInits = SeenInits()
    var usage = DomainKeyUsage()
    var opened = OpenedTokens()
    private var sessionKeys: [ByteKey: CachedSessionKey] = [:]

    /// An opened session key, with the header of the token it came from (what decides whether it may still
    /// be used: domain, domain key, host subject, window).
    private struct CachedSessionKey: Sendable {
        let key: SecretBytes
        let header: ExportedKeyToken.Header
        let expires: WireTime
    }

    /// How many opened session keys are kept (for tests).
    var sessionKeyCount: Int { sessionKeys.count }

    /// The same, for the domain `next`: opened session keys and backing-key tokens that no check would pass
    /// under it are dropped (another domain, a domain key no longer held, a host no longer listed, a window
    /// closed), so a rotation takes what the rotated-out domain key sealed out of memory (§7: "bounded and
    /// evicted at expiry"), not only out of use.
    func adopting(_ next: DomainMembership, now: WireTime) -> SessionService {
        var adopted = self
        adopted.opened.prune(membership: next, now: now)
        let hosts = Set(next.state.hosts.map { SessionCrypto.subject(hostKey: $0.signingKey) })
        adopted.sessionKeys = sessionKeys.filter { _, cached in
            (try? TokenOpener.check(cached.header, membership: next, now: now)) != nil
                && hosts.contains(cached.header.subject) && now <= cached.expires
        }
        return adopted
    }

    /// Answers a `SessionRequest` (§7). What fails before `sealed` opens is thrown as a `Failure` for
    /// an Envelope failure; what fails after is returned as a sealed `SessionResult.failure`.
    mutating func serve(
        _ request: SessionRequest, membership: DomainMembership, now: WireTime, random: inout some RandomSource
    ) throws(Failure) -> SessionResponse {
        let ekt = request.ekt
        let digest = ekt.digest
        let sessionKey = try openSessionToken(ekt, digest: digest, membership: membership, now: now)
        let expires = (ekt.header.notAfter ?? now).adding(seconds: Int64(membership.state.parameters.clockSkew))
        try replay.check(request.requestID, session: digest, expires: expires, now: now)
        let sealedCommand: SecretBytes
        do {
            sealedCommand = try AEAD.open(
                request.sealed, key: sessionKey.symmetricKey,
                aad: SessionRequest.aad(ektDigest: digest, requestID: request.requestID))
        } catch {
            throw Failure(.authenticationFailed, "the request does not open under the session key")
        }
        replay.record(request.requestID, session: digest, expires: expires)
        let result: SessionResult
        do {
            let command = try SessionCommand(secretDER: sealedCommand)
            result = try SessionCommands.execute(
                command, membership: membership, now: now, usage: &usage, opened: &opened, random: &random)
        } catch let failure as Failure {
            result = .failure(failure)
        } catch {
            result = .failure(Failure(.malformed, "the session command does not parse: \(error)"))
        }
        do {
            let sealed = try AEAD.seal(
                result.secretDER, key: sessionKey.symmetricKey,
                aad: SessionResponse.aad(ektDigest: digest, requestID: request.requestID))
            return SessionResponse(requestID: request.requestID, sealed: sealed)
        } catch {
            throw Failure(.internal, "sealing the response failed")
        }
    }

    /// Opens a session EKT (§7 "Opening any token"): this domain, a held domain key, kind session and
    /// spec AES_256, within its window, for a host the current state lists. Cached by `H(DER(ekt))`.
    private mutating func openSessionToken(
        _ ekt: ExportedKeyToken, digest: [UInt8], membership: DomainMembership, now: WireTime
    ) throws(Failure) -> SecretBytes {
        let state = membership.state
        let header = ekt.header
        guard header.kind == .session, header.spec == SessionCrypto.spec else {
            throw Failure(.wrongKind, "not a session token")
        }
        guard state.hosts.contains(where: { SessionCrypto.subject(hostKey: $0.signingKey) == header.subject }) else {
            throw Failure(.unknownHost, "the session's host is not a host of the current state")
        }
        let place = ByteKey(digest)
        if let cached = sessionKeys[place] {
            // A cached key skips AEAD.open, not the checks: its domain key must still be held (it is
            // dropped after domainKeyRetention rotations, and every session under it ends then).
            guard header.domainID == state.domainID, membership.key(header.domainKeyID) != nil else {
                sessionKeys[place] = nil
                throw Failure(.wrongDomain, "the token's domain key is not held (rotated out?)")
            }
            guard now <= cached.expires else { throw Failure(.timeWindow, "the session has expired") }
            return cached.key
        }
        let key = try TokenOpener.open(ekt, membership: membership, now: now)
        if sessionKeys.count >= Self.sessionKeyCacheCapacity {
            sessionKeys = sessionKeys.filter { $0.value.expires >= now }
            if sessionKeys.count >= Self.sessionKeyCacheCapacity { sessionKeys.removeAll() }
        }
        sessionKeys[place] = CachedSessionKey(key: key, header: header, expires: header.notAfter ?? now)
        return key
    }
}

/// Opening any exported key token (§7): this domain, a held domain key, the time window, then `Open`
/// with the header as AAD. Kind and spec are checked by the caller, which knows the operation.
enum TokenOpener {
    static func open(
        _ ekt: ExportedKeyToken, membership: DomainMembership, now: WireTime
    ) throws(Failure) -> SecretBytes {
        try unseal(ekt, domainKey: check(ekt.header, membership: membership, now: now))
    }

    /// The checks before `Open`, on a token's header: the domain key that sealed it, when they pass.
    static func check(
        _ header: ExportedKeyToken.Header, membership: DomainMembership, now: WireTime
    ) throws(Failure) -> DomainKey {
        let skew = Int64(membership.state.parameters.clockSkew)
        guard header.domainID == membership.state.domainID else {
            throw Failure(.wrongDomain, "a token of another domain")
        }
        guard let domainKey = membership.key(header.domainKeyID) else {
            throw Failure(.wrongDomain, "the token's domain key is not held (rotated out?)")
        }
        guard header.notBefore.secondsSinceEpoch - skew <= now.secondsSinceEpoch else {
            throw Failure(.timeWindow, "the token is not valid yet")
        }
        if let notAfter = header.notAfter, now > notAfter { throw Failure(.timeWindow, "the token has expired") }
        return domainKey
    }

    /// `Open` of `ekt` under `domainKey`, with the header as AAD.
    static func unseal(_ ekt: ExportedKeyToken, domainKey: DomainKey) throws(Failure) -> SecretBytes {
        do {
            return try AEAD.open(ekt.sealed, key: domainKey.material.symmetricKey, aad: ekt.header.derBytes)
        } catch {
            throw Failure(.authenticationFailed, "the token does not open")
        }
    }
}

/// Opened backing-key tokens, kept so that a key used again skips `Open`: PROTOCOL §7 lets an HSM cache
/// `H(DER(token)) → key material` in volatile memory, "bounded and evicted at expiry". Only the AEAD is
/// skipped: ``TokenOpener/check(_:membership:now:)`` runs on every use, so a token whose domain key has
/// rotated out or whose window has closed is refused as before, and its entry goes then. An entry is found
/// by the token's sealed bytes (a fresh IV per sealing makes them unique) and used only when the header is
/// the one it was opened with, so a token with the same sealed bytes and an altered header goes through
/// `Open`, and fails there. ``prune(membership:now:)`` drops every entry no check would pass any more; it
/// runs whenever the domain changes (a rotation drops what the rotated-out key sealed) and before the cache,
/// full at ``capacity``, starts afresh. The material is zeroized when its entry goes, and all of it when the
/// HSM wipes.
struct OpenedTokens: Sendable {
    /// Opened tokens kept at most.
    static let capacity = 4096

    private var entries: [ByteKey: (header: ExportedKeyToken.Header, material: SecretBytes)] = [:]

    /// How many are kept (for tests).
    var count: Int { entries.count }

    /// The material `token` seals: ``TokenOpener/open(_:membership:now:)``, from the cache when it holds it.
    mutating func open(
        _ token: ExportedKeyToken, membership: DomainMembership, now: WireTime
    ) throws(Failure) -> SecretBytes {
        let place = ByteKey(token.sealed)
        let domainKey: DomainKey
        do {
            domainKey = try TokenOpener.check(token.header, membership: membership, now: now)
        } catch {
            if entries[place]?.header == token.header { entries[place] = nil }
            throw error
        }
        if let kept = entries[place], kept.header == token.header { return kept.material }
        let material = try TokenOpener.unseal(token, domainKey: domainKey)
        if entries.count >= Self.capacity {
            prune(membership: membership, now: now)
            if entries.count >= Self.capacity { entries.removeAll() }
        }
        entries[place] = (token.header, material)
        return material
    }

    /// Drops the entries whose token the checks would refuse now: another domain's, a domain key no longer
    /// held, a window closed.
    mutating func prune(membership: DomainMembership, now: WireTime) {
        entries = entries.filter { (try? TokenOpener.check($0.value.header, membership: membership, now: now)) != nil }
    }
}
