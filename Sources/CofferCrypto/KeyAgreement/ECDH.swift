import Crypto
import Foundation

/// `ECDH(d, Q)` of PROTOCOL §1: P-384 ECC CDH (SP 800-56A §5.7.1.2); `Z` is the 48-byte x-coordinate.
///
/// The peer's key is a ``P384PublicKey``, so it has already passed full public-key validation.
public enum ECDH {
    /// The length of `Z` in bytes.
    public static let sharedSecretLength = 48

    /// `Z = ECDH(d, Q)`.
    public static func sharedSecret(
        _ privateKey: P384.KeyAgreement.PrivateKey, _ peer: P384PublicKey
    ) throws(CofferCryptoError) -> SecretBytes {
        do {
            let shared = try privateKey.sharedSecretFromKeyAgreement(with: peer.agreementKey)
            return shared.withUnsafeBytes { SecretBytes(copying: $0) }
        } catch {
            throw CofferCryptoError(.invalidPublicKey, "key agreement failed")
        }
    }

    /// Loads a private scalar given as big-endian bytes, left-padded to 48 bytes.
    public static func privateKey(
        scalar: some Collection<UInt8>
    ) throws(CofferCryptoError)
        -> P384.KeyAgreement.PrivateKey
    {
        var bytes = Array(scalar)
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        while bytes.count > 48, bytes.first == 0 { bytes.removeFirst() }
        guard bytes.count <= 48 else { throw CofferCryptoError(.invalidPrivateKey, "scalar longer than 48 bytes") }
        bytes.insert(contentsOf: repeatElement(0, count: 48 - bytes.count), at: 0)
        do {
            return try P384.KeyAgreement.PrivateKey(rawRepresentation: bytes)
        } catch {
            throw CofferCryptoError(.invalidPrivateKey, "not a valid P-384 scalar")
        }
    }
}
