import CofferCrypto
import CofferWire
import Crypto

/// The derivations both sides of a session handshake compute (PROTOCOL §7).
public enum SessionCrypto {
    /// The only session key spec.
    public static let spec = "AES_256"

    /// `Kneg = KDF(Z, "coffer session v1", hostID ‖ Q1, hsmID ‖ Q2, initDigest)`.
    public static func negotiatedKey(
        sharedSecret z: SecretBytes, hostID: String, hostEphemeral: P384PublicKey, hsmID: String,
        hsmEphemeral: P384PublicKey, initDigest: [UInt8]
    ) -> SymmetricKey {
        OneStepKDF.derive(
            sharedSecret: z, label: .session, partyU: OneStepKDF.partyInfo(id: hostID, publicKey: hostEphemeral),
            partyV: OneStepKDF.partyInfo(id: hsmID, publicKey: hsmEphemeral), extra: initDigest)
    }

    /// A session EKT's subject: `H(SPKI of the host's signing key)`.
    public static func subject(hostKey: P384PublicKey) -> [UInt8] { hostKey.digest }
}
