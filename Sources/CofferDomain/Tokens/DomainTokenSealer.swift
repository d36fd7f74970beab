import CofferCrypto
import CofferWire
import Crypto

/// Domain tokens (PROTOCOL §6): the domain keys sealed under a fresh DKEK, the DKEK carried to every
/// member by one-pass ECDH (C(1e, 1s, ECC CDH): the exporter's ephemeral key, the member's static
/// agreement key), and the exporter's signature over the whole token, which also authenticates each
/// ephemeral key.
public enum DomainTokenSealer {
    /// Seals `keys` for every member of `state` and signs the token as `exporter`.
    public static func export(
        state: DomainState, authorization: SignedCommand, keys: [DomainKey], exporter: HSMKeys,
        random: inout some RandomSource
    ) throws(DomainError) -> DomainToken {
        guard keys.map(\.keyID) == state.domainKeys.map(\.keyID) else {
            throw DomainError(.stateMismatch, "the key material does not match the state's domain keys")
        }
        let digest = state.digest
        let dkek = random.secret(count: 32)
        let sealed: [UInt8]
        do {
            sealed = try AEAD.seal(DomainKeyList.encode(keys), key: dkek.symmetricKey, aad: digest)
        } catch {
            throw DomainError(.invalidArgument, "sealing the domain keys failed")
        }
        var recipients: [Recipient] = []
        for member in state.members {
            let ephemeral = random.agreementKey()
            let ephemeralPublic = P384PublicKey(ephemeral.publicKey)
            let kek = try wrappingKey(
                sharedSecret: try ecdh(ephemeral, member.agreementKey), exporterID: exporter.hsmID,
                exporterEphemeral: ephemeralPublic, member: member, digest: digest)
            do {
                let wrapped = try AEAD.seal(dkek, key: kek, aad: digest)
                recipients.append(Recipient(hsmID: member.hsmID, ephemeralKey: ephemeralPublic, wrappedDKEK: wrapped))
            } catch {
                throw DomainError(.invalidArgument, "wrapping the DKEK failed")
            }
        }
        let keysField = SealedDomainKeys(sealed: sealed, recipients: recipients)
        let tbs = DomainToken.toBeSigned(
            state: state, authorization: authorization, keys: keysField, exporter: exporter.hsmID)
        return DomainToken(
            state: state, authorization: authorization, keys: keysField, exporter: exporter.hsmID,
            signature: try exporter.sign(tbs, label: .domainToken))
    }

    /// Opens the domain keys of `token` as the member holding `keys`. Fails when the HSM is not a
    /// recipient, when anything does not open, or when the keys do not match the state's key ids.
    public static func open(_ token: DomainToken, as keys: HSMKeys) throws(DomainError) -> [DomainKey] {
        guard let member = token.state.members.first(where: { $0.hsmID == keys.hsmID }), keys.isMember(member) else {
            throw DomainError(.authenticationFailed, "\(keys.hsmID) is not a recipient of this token")
        }
        return try open(token, as: member, agreement: keys.agreement)
    }

    /// Opens the domain keys of `token` as `member` with its agreement private key (an online member's
    /// own, or a recovery member's rebuilt from its shares).
    public static func open(
        _ token: DomainToken, as member: Member, agreement: P384.KeyAgreement.PrivateKey
    ) throws(DomainError) -> [DomainKey] {
        guard let recipient = token.keys.recipients.first(where: { $0.hsmID == member.hsmID }),
            P384PublicKey(agreement.publicKey) == member.agreementKey
        else {
            throw DomainError(.authenticationFailed, "\(member.hsmID) is not a recipient of this token")
        }
        let digest = token.state.digest
        let kek = try wrappingKey(
            sharedSecret: try ecdh(agreement, recipient.ephemeralKey), exporterID: token.exporter,
            exporterEphemeral: recipient.ephemeralKey, member: member, digest: digest)
        let domainKeys: [DomainKey]
        do {
            let dkek = try AEAD.open(recipient.wrappedDKEK, key: kek, aad: digest)
            let plaintext = try AEAD.open(token.keys.sealed, key: dkek.symmetricKey, aad: digest)
            domainKeys = try DomainKeyList.decode(plaintext)
        } catch {
            throw DomainError(.authenticationFailed, "the domain keys do not open")
        }
        guard domainKeys.map(\.keyID) == token.state.domainKeys.map(\.keyID) else {
            throw DomainError(.stateMismatch, "the sealed keys are not the state's domain keys")
        }
        return domainKeys
    }

    /// `KEK = KDF(Z, "coffer dkek wrap v1", exporterID ‖ Qe, hsmID ‖ QHAK, digest(state))`.
    static func wrappingKey(
        sharedSecret z: SecretBytes, exporterID: String, exporterEphemeral: P384PublicKey, member: Member,
        digest: [UInt8]
    ) throws(DomainError) -> SymmetricKey {
        OneStepKDF.derive(
            sharedSecret: z, label: .dkekWrap,
            partyU: OneStepKDF.partyInfo(id: exporterID, publicKey: exporterEphemeral),
            partyV: OneStepKDF.partyInfo(id: member.hsmID, publicKey: member.agreementKey), extra: digest)
    }

    /// `ECDH(d, Q)` with any failure as `authenticationFailed` (tokens and recovery shares).
    static func ecdh(
        _ key: P384.KeyAgreement.PrivateKey, _ peer: P384PublicKey
    ) throws(DomainError) -> SecretBytes {
        do {
            return try ECDH.sharedSecret(key, peer)
        } catch {
            throw DomainError(.authenticationFailed, "key agreement failed")
        }
    }
}
