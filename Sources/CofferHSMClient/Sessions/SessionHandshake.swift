import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// The host's side of the session handshake (PROTOCOL §7, steps 1 and 3), as a state machine in the
/// style of swift-nio-ssh: the ephemeral private key exists only while awaiting the accept; the session
/// key only once established. No I/O and no clock: time and randomness are passed in.
public struct SessionHandshake: Sendable {
    private enum State: Sendable {
        /// Nothing sent yet.
        case idle
        /// `SignedInit` sent; `d1` held until the accept arrives.
        case awaitingAccept(ephemeral: P384.KeyAgreement.PrivateKey, signedInit: SignedInit)
        /// Done; `d1` is gone.
        case finished
    }

    private var state: State = .idle
    private let hostID: String
    private let hostKey: P384.Signing.PrivateKey
    private let domain: DomainState

    /// A handshake for the host `hostID` holding `hostKey`, against its verified domain state.
    public init(hostID: String, hostKey: P384.Signing.PrivateKey, domain: DomainState) {
        self.hostID = hostID
        self.hostKey = hostKey
        self.domain = domain
    }

    /// Step 1: a fresh `(d1, Q1)` and the signed offer.
    public mutating func start(now: WireTime, random: inout some RandomSource) throws(HSMClientError) -> SignedInit {
        guard case .idle = state else { throw HSMClientError(.badAccept, "a handshake starts once") }
        let ephemeral = random.agreementKey()
        let offer = SessionInit(
            domainID: domain.domainID, epoch: domain.epoch, hostID: hostID,
            ephemeralKey: P384PublicKey(ephemeral.publicKey),
            time: now, nonce: random.bytes(count: WireLimits.keyIDLength))
        let signature: [UInt8]
        do {
            signature = try Signing.sign(offer.derBytes, label: .sessionInit, with: hostKey)
        } catch {
            throw HSMClientError(.badSignature, "signing the session offer failed")
        }
        let signedInit = SignedInit(initMessage: offer, signature: signature)
        state = .awaitingAccept(ephemeral: ephemeral, signedInit: signedInit)
        return signedInit
    }

    /// Step 3: checks the accept in the order of §7 and opens `ESK`.
    public mutating func receive(accept signed: SignedAccept, now: WireTime) throws(HSMClientError) -> Session {
        guard case .awaitingAccept(let ephemeral, let signedInit) = state else {
            throw HSMClientError(.badAccept, "no handshake is waiting for an accept")
        }
        state = .finished
        let accept = signed.accept
        guard let member = domain.members.first(where: { $0.hsmID == accept.hsmID && $0.kind == .online }),
            member.signingKey.fingerprint == accept.hsmID
        else {
            throw HSMClientError(.unknownHSM, "\(accept.hsmID) is not an online member of the verified state")
        }
        guard Signing.isValid(signed.signature, over: accept.derBytes, label: .sessionAccept, by: member.signingKey)
        else {
            throw HSMClientError(.badSignature, "Sig2 does not verify with \(accept.hsmID)'s key")
        }
        let initDigest = signedInit.digest
        guard ConstantTime.equals(accept.initDigest, initDigest) else {
            throw HSMClientError(.badAccept, "the accept answers another offer")
        }
        let header = accept.ekt.header
        let hostSubject = SessionCrypto.subject(hostKey: P384PublicKey(hostKey.publicKey))
        guard header.kind == .session, header.domainID == domain.domainID, header.subject == hostSubject,
            header.spec == SessionCrypto.spec, let notAfter = header.notAfter
        else {
            throw HSMClientError(.badAccept, "the session token is not a session of this domain and host")
        }
        guard notAfter > now else { throw HSMClientError(.expired, "the session token has already expired") }
        let key: SecretBytes
        do {
            let z = try ECDH.sharedSecret(ephemeral, accept.ephemeralKey)
            let kneg = SessionCrypto.negotiatedKey(
                sharedSecret: z, hostID: hostID, hostEphemeral: signedInit.initMessage.ephemeralKey,
                hsmID: accept.hsmID,
                hsmEphemeral: accept.ephemeralKey, initDigest: initDigest)
            key = try AEAD.open(accept.esk, key: kneg, aad: initDigest)
        } catch {
            throw HSMClientError(.authenticationFailed, "ESK does not open")
        }
        guard key.count == 32 else { throw HSMClientError(.authenticationFailed, "the session key is not 256 bits") }
        return Session(ekt: accept.ekt, key: key, acceptedBy: accept.hsmID, established: now, notAfter: notAfter)
    }
}

/// An established session: the EKT any member can open, and `SK`, which only this host and the HSMs hold.
public struct Session: Sendable {
    /// Requests per session before renegotiating (§7).
    public static let requestLimit: Int64 = 1 << 30

    /// The session token sent with every request.
    public let ekt: ExportedKeyToken
    /// `H(DER(ekt))`.
    public let ektDigest: [UInt8]
    private let key: SecretBytes
    /// The HSM that accepted the handshake (any member serves requests).
    public let acceptedBy: String
    /// When the host established it.
    public let established: WireTime
    /// The EKT's `notAfter`.
    public let notAfter: WireTime

    init(ekt: ExportedKeyToken, key: SecretBytes, acceptedBy: String, established: WireTime, notAfter: WireTime) {
        self.ekt = ekt
        ektDigest = ekt.digest
        self.key = key
        self.acceptedBy = acceptedBy
        self.established = established
        self.notAfter = notAfter
    }

    /// Renegotiate from here on: 80 % of the lifetime (§7).
    public var renewAt: WireTime {
        established.adding(seconds: (notAfter.secondsSinceEpoch - established.secondsSinceEpoch) * 4 / 5)
    }

    /// `SessionRequest` with `sealed = Seal(SK, DER(command), "coffer request v1" ‖ H(DER(ekt)) ‖ requestID)`.
    public func seal(_ command: SessionCommand, requestID: Int64) throws(HSMClientError) -> SessionRequest {
        do {
            let sealed = try AEAD.seal(
                command.secretDER, key: key.symmetricKey,
                aad: SessionRequest.aad(ektDigest: ektDigest, requestID: requestID))
            return SessionRequest(ekt: ekt, requestID: requestID, sealed: sealed)
        } catch {
            throw HSMClientError(.authenticationFailed, "sealing the request failed")
        }
    }

    /// Opens the response to `requestID`.
    public func open(_ response: SessionResponse, requestID: Int64) throws(HSMClientError) -> SessionResult {
        guard response.requestID == requestID else {
            throw HSMClientError(.unexpectedAnswer, "a response to another request")
        }
        do {
            let opened = try AEAD.open(
                response.sealed, key: key.symmetricKey,
                aad: SessionResponse.aad(ektDigest: ektDigest, requestID: requestID))
            return try SessionResult(secretDER: opened)
        } catch {
            throw HSMClientError(.authenticationFailed, "the response does not open under the session key")
        }
    }
}
