import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// The HSM's side of the session handshake (PROTOCOL §7, step 2): checks a host's `SignedInit` in the
/// order the spec gives, then answers with `ESK` (SK under the negotiated key) and the session `EKT`
/// (SK under the active domain key), all signed as `Sig2`.
enum SessionAcceptor {
    /// The key Sig1 must verify under, after the checks that precede it (§7: not seen before, this domain, a
    /// host of it), read-only; nil when one of those refuses the init (``accept`` then says why). The server
    /// verifies Sig1 with it outside its lock, since anyone who reaches the socket can send an init.
    static func signatureKey(
        _ signedInit: SignedInit, state: DomainState, seen: SeenInits, now: WireTime
    )
        -> P384PublicKey?
    {
        let offer = signedInit.initMessage
        guard !seen.isReplay(Hash.h(offer.derBytes), now: now), offer.domainID == state.domainID else { return nil }
        return state.hosts.first { $0.id == offer.hostID }?.signingKey
    }

    /// Sig1 does not verify.
    static func badSignature(_ hostID: String) -> Failure {
        Failure(.badSignature, "Sig1 does not verify with \(hostID)'s key")
    }

    /// Accepts `signedInit`. `verified`, when it is this init's and names the host's current key, spares
    /// verifying Sig1 a second time (the server verified it outside its lock).
    static func accept(
        _ signedInit: SignedInit, membership: DomainMembership, hsm: HSMKeys, now: WireTime,
        usage: inout DomainKeyUsage, seen: inout SeenInits, random: inout some RandomSource,
        verified: VerifiedSessionInit? = nil
    ) throws(Failure) -> SignedAccept {
        let state = membership.state
        let offer = signedInit.initMessage
        // An init accepted before is refused before any public-key work (see SeenInits). The key is the
        // SessionInit without its signature: ECDSA admits another valid signature of the same message
        // ((r, n − s), or simply signing again), which must not make a replay look new.
        let initDigest = signedInit.digest
        let offerDigest = Hash.h(offer.derBytes)
        try seen.check(offerDigest, now: now)
        guard offer.domainID == state.domainID else { throw Failure(.wrongDomain, "the session is for another domain") }
        guard let host = state.hosts.first(where: { $0.id == offer.hostID }) else {
            throw Failure(.unknownHost, "\(offer.hostID) is not a host of this domain")
        }
        guard
            verified.map({ $0.key == host.signingKey && $0.digest == initDigest }) ?? false
                || Signing.isValid(signedInit.signature, over: offer.derBytes, label: .sessionInit, by: host.signingKey)
        else {
            throw badSignature(offer.hostID)
        }
        guard offer.epoch == state.epoch else {
            throw Failure(.staleBase, "the host is at epoch \(offer.epoch); the domain is at \(state.epoch)")
        }
        guard abs(now.secondsSinceEpoch - offer.time.secondsSinceEpoch) <= Int64(state.parameters.clockSkew) else {
            throw Failure(.timeWindow, "the host's clock is more than clockSkew away")
        }
        guard let active = membership.keys.first else { throw Failure(.internal, "no domain key") }
        try usage.count(active.keyID)
        seen.record(offerDigest, expires: offer.time.adding(seconds: Int64(state.parameters.clockSkew)))

        let ephemeral = random.agreementKey()
        let q2 = P384PublicKey(ephemeral.publicKey)
        let z: SecretBytes
        do {
            z = try ECDH.sharedSecret(ephemeral, offer.ephemeralKey)
        } catch {
            throw Failure(.malformed, "the host's ephemeral key")
        }
        let kneg = SessionCrypto.negotiatedKey(
            sharedSecret: z, hostID: offer.hostID, hostEphemeral: offer.ephemeralKey, hsmID: hsm.hsmID,
            hsmEphemeral: q2, initDigest: initDigest)
        let sessionKey = random.secret(count: 32)
        let header = ExportedKeyToken.Header(
            domainID: state.domainID, domainKeyID: active.keyID, kind: .session,
            subject: SessionCrypto.subject(hostKey: host.signingKey), spec: SessionCrypto.spec, notBefore: now,
            notAfter: now.adding(seconds: Int64(state.parameters.sessionLifetime)))
        do {
            let esk = try AEAD.seal(sessionKey, key: kneg, aad: initDigest)
            let ekt = ExportedKeyToken(
                header: header,
                sealed: try AEAD.seal(sessionKey, key: active.material.symmetricKey, aad: header.derBytes))
            let accept = SessionAccept(hsmID: hsm.hsmID, ephemeralKey: q2, initDigest: initDigest, esk: esk, ekt: ekt)
            return SignedAccept(
                accept: accept, signature: try Signing.sign(accept.derBytes, label: .sessionAccept, with: hsm.signing))
        } catch {
            throw Failure(.internal, "sealing the session key failed")
        }
    }
}

/// Proof that a SessionInit's Sig1 verifies under a key; made only by
/// ``HSMCore/verifySessionInit(_:key:)``, which verifies it.
public struct VerifiedSessionInit: Sendable {
    /// `H(DER(SignedInit))`: the init with its signature.
    let digest: [UInt8]
    let key: P384PublicKey
}

/// Seals under each domain key, counted per HSM and refused past 2^28 (PROTOCOL §8, `keyUsageLimit`).
struct DomainKeyUsage: Sendable {
    /// The most seals one HSM makes under one domain key.
    static let limit = 1 << 28
    private var seals: [[UInt8]: Int] = [:]

    mutating func count(_ keyID: [UInt8]) throws(Failure) {
        let used = seals[keyID, default: 0]
        guard used < Self.limit else {
            throw Failure(
                .keyUsageLimit, "the domain key has sealed \(Self.limit) values on this HSM: rotate the domain keys")
        }
        seals[keyID] = used + 1
    }
}
