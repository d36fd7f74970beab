import CofferCrypto
import CofferWire
import Crypto

/// Recovery shares (docs/protocol.md, "Recovery"): one Shamir share of a recovery member's agreement
/// private key, sealed to one recipient key by one-pass ECDH —
/// `K = KDF(ECDH(de, Qr), "coffer recovery share v1", member ‖ Qe, fingerprint(Qr) ‖ Qr, H(DER(header)))`,
/// `sealed = Seal(K, y, DER(header))`. The same format carries a share to its custodian and, resealed,
/// to the HSM that recovers.
public enum RecoveryShares {
    /// Seals the share `y` described by `header` to `header.recipient`.
    public static func seal(
        _ y: SecretBytes, header: ShareHeader, random: inout some RandomSource
    ) throws(DomainError) -> SealedShare {
        guard y.count == scalarLength else {
            throw DomainError(.invalidArgument, "a share of a P-384 key is \(scalarLength) bytes")
        }
        let ephemeral = random.agreementKey()
        let ephemeralPublic = P384PublicKey(ephemeral.publicKey)
        let key = try shareKey(
            try DomainTokenSealer.ecdh(ephemeral, header.recipient), header: header, ephemeral: ephemeralPublic)
        do {
            return SealedShare(
                header: header, ephemeralKey: ephemeralPublic, sealed: try AEAD.seal(y, key: key, aad: header.derBytes))
        } catch {
            throw DomainError(.invalidArgument, "sealing the share failed")
        }
    }

    /// Opens `share` with the private key of its recipient. A share sealed to another key is
    /// ``DomainError/Code/misaddressedShare``; one that does not open (tampered) is `authenticationFailed`.
    public static func open(
        _ share: SealedShare, with recipient: P384.KeyAgreement.PrivateKey
    ) throws(DomainError) -> SecretBytes {
        guard P384PublicKey(recipient.publicKey) == share.header.recipient else {
            throw DomainError(
                .misaddressedShare, "share \(share.header.x) is sealed to \(share.header.recipient.fingerprint)")
        }
        let key = try shareKey(
            try DomainTokenSealer.ecdh(recipient, share.ephemeralKey), header: share.header,
            ephemeral: share.ephemeralKey)
        let y: SecretBytes
        do {
            y = try AEAD.open(share.sealed, key: key, aad: share.header.derBytes)
        } catch {
            throw DomainError(.authenticationFailed, "share \(share.header.x) does not open")
        }
        guard y.count == scalarLength else {
            throw DomainError(.authenticationFailed, "share \(share.header.x) has the wrong length")
        }
        return y
    }

    /// A custodian's step: opens `share` with the custodian's key and seals it to the HSM that `command`
    /// names, only once the operators have approved that recovery: `command` must be a `domain.recover`
    /// that meets `state`'s rule now (`state` being the newest state of the domain, which the caller has
    /// verified from its pinned genesis), its identity self-signed, its hsmID the hash of its signing key
    /// and uninitialized, and the share one of a recovery member of `state`. Whether the identity answered
    /// a fresh challenge is the caller's to check (the tool asks the HSM, or compares the custodian's own).
    public static func reseal(
        _ share: SealedShare, custodian: P384.KeyAgreement.PrivateKey, command: SignedCommand, state: DomainState,
        now: WireTime, random: inout some RandomSource
    ) throws(DomainError) -> SealedShare {
        let verified = try CommandVerifier.verify(command, against: state, now: now)
        guard case .recover(let recover) = verified.arguments else {
            throw DomainError(
                .invalidArgument, "a share is resealed only for domain.recover, not \(command.command.command)")
        }
        try DomainTransition.checkNewMember(MemberAddition(identity: recover.member, kind: .online), "reseal")
        _ = try kitMember(share.header, in: state)
        let y = try open(share, with: custodian)
        return try seal(y, header: share.header.resealed(to: recover.member.identity.agreementKey), random: &random)
    }

    /// The cheap checks of a recovery's shares, before any public-key work: the first names a recovery
    /// member of `state` (with its agreement key), all name that kit and threshold, each is sealed to
    /// `hsm`'s agreement key, and there are at least `threshold` distinct shares. Returns the member.
    public static func checkHeaders(
        _ shares: [SealedShare], state: DomainState, hsm: HSMKeys
    ) throws(DomainError) -> Member {
        guard let first = shares.first?.header else { throw DomainError(.tooFewShares, "no shares") }
        let member = try kitMember(first, in: state)
        for share in shares {
            let header = share.header
            guard header.member == first.member, header.memberKey == first.memberKey,
                header.threshold == first.threshold, header.count == first.count
            else {
                throw DomainError(.foreignShare, "share \(header.x) is of another kit than share \(first.x)")
            }
            guard header.recipient == hsm.agreementPublicKey else {
                throw DomainError(.misaddressedShare, "share \(header.x) is not sealed to this HSM (\(hsm.hsmID))")
            }
        }
        guard Set(shares.map(\.header.x)).count >= first.threshold else {
            throw DomainError(
                .tooFewShares, "\(shares.count) share(s) of kit \(first.member); it needs \(first.threshold)")
        }
        return member
    }

    /// The recovering HSM's step, after ``checkHeaders(_:state:hsm:)``: opens the shares and rebuilds the
    /// member's agreement private key, which must match the state's record of it.
    public static func rebuild(
        _ shares: [SealedShare], state: DomainState, hsm: HSMKeys
    ) throws(DomainError) -> (member: Member, key: P384.KeyAgreement.PrivateKey) {
        let member = try checkHeaders(shares, state: state, hsm: hsm)
        var opened: [Shamir.Share] = []
        for share in shares {
            opened.append(Shamir.Share(x: UInt8(share.header.x), y: try open(share, with: hsm.agreement)))
        }
        let key: P384.KeyAgreement.PrivateKey
        do {
            let scalar = try Shamir.combine(opened)
            key = try scalar.withUnsafeBytes { buffer throws(CofferCryptoError) in try ECDH.privateKey(scalar: buffer) }
        } catch {
            throw DomainError(.authenticationFailed, "the shares do not rebuild a P-384 key")
        }
        guard P384PublicKey(key.publicKey) == member.agreementKey else {
            throw DomainError(.authenticationFailed, "the shares do not rebuild the recovery member's key")
        }
        return (member, key)
    }

    /// The recovery member of `state` that `header` names, with the agreement key it names.
    static func kitMember(_ header: ShareHeader, in state: DomainState) throws(DomainError) -> Member {
        guard
            let member = state.members.first(where: {
                $0.hsmID == header.member && $0.kind == .recovery && $0.agreementKey == header.memberKey
            })
        else {
            throw DomainError(
                .foreignShare, "the share is of kit \(header.member), not a recovery member of the domain")
        }
        return member
    }

    /// A P-384 private scalar's length.
    public static let scalarLength = 48

    private static func shareKey(
        _ z: SecretBytes, header: ShareHeader, ephemeral: P384PublicKey
    ) throws(DomainError) -> SymmetricKey {
        OneStepKDF.derive(
            sharedSecret: z, label: .recoveryShare,
            partyU: OneStepKDF.partyInfo(id: header.member, publicKey: ephemeral),
            partyV: OneStepKDF.partyInfo(id: header.recipient.fingerprint, publicKey: header.recipient),
            extra: Hash.h(header.derBytes))
    }
}

/// What `coffer recovery create` makes: a recovery member's public identity and one sealed share per
/// custodian. The private keys exist only inside ``create(custodians:threshold:random:)``.
public struct RecoveryKit: Sendable {
    /// The member to add with `domain.modifyMembers` (kind recovery).
    public let member: MemberAddition
    /// One share per custodian, in the order the custodians were given (x = 1 … N).
    public let shares: [SealedShare]

    /// Generates the recovery member's signing and agreement keys in memory, signs its identity,
    /// splits the agreement private key M-of-N and seals share i to custodian i. The signing key is
    /// used once (the identity) and the agreement key only to split; both are released on return.
    public static func create(
        custodians: [P384PublicKey], threshold: Int, random: inout some RandomSource
    ) throws(DomainError) -> RecoveryKit {
        guard WireLimits.shareThreshold.contains(threshold), custodians.count >= threshold,
            custodians.count <= Shamir.maximumShares
        else {
            throw DomainError(.invalidArgument, "need 2 ≤ threshold ≤ custodians ≤ 255")
        }
        guard Set(custodians.map(\.spki)).count == custodians.count else {
            throw DomainError(.invalidArgument, "a custodian key is listed twice")
        }
        let signing: P384.Signing.PrivateKey
        do {
            signing = try random.secret(count: RecoveryShares.scalarLength).withUnsafeBytes {
                try P384.Signing.PrivateKey(rawRepresentation: $0)
            }
        } catch {
            throw DomainError(.invalidArgument, "drawing a signing key failed")
        }
        // The agreement scalar is drawn as SecretBytes and split from that buffer: no copy of it is left in a
        // Data or an array that is not wiped.
        var scalar = random.secret(count: RecoveryShares.scalarLength)
        var agreement: P384.KeyAgreement.PrivateKey?
        while agreement == nil {
            agreement = scalar.withUnsafeBytes { try? ECDH.privateKey(scalar: $0) }
            if agreement == nil { scalar = random.secret(count: RecoveryShares.scalarLength) }
        }
        guard let agreement else { throw DomainError(.invalidArgument, "drawing an agreement key failed") }
        let keys = HSMKeys(signing: signing, agreement: agreement)
        let identity = try keys.signedIdentity(challenge: random.bytes(count: WireLimits.challengeLength))
        let split: [Shamir.Share]
        do {
            split = try Shamir.split(scalar, threshold: threshold, count: custodians.count) { count in
                random.secret(count: count)
            }
        } catch {
            throw DomainError(.invalidArgument, "splitting the key failed")
        }
        var shares: [SealedShare] = []
        for (index, custodian) in custodians.enumerated() {
            let header = ShareHeader(
                member: keys.hsmID, memberKey: keys.agreementPublicKey, threshold: threshold, count: custodians.count,
                x: index + 1, recipient: custodian)
            shares.append(try RecoveryShares.seal(split[index].y, header: header, random: &random))
        }
        return RecoveryKit(member: MemberAddition(identity: identity, kind: .recovery), shares: shares)
    }
}
