import Crypto

/// `Sign(d, label, m)` of PROTOCOL §1: ECDSA P-384 with SHA-384 over `label ‖ 0x00 ‖ m`, the
/// signature as a strict-DER `ECDSA-Sig-Value` of at most 104 bytes.
///
/// ECDSA signatures are malleable: never identify, cache or deduplicate anything by signature bytes.
public enum Signing {
    /// The largest DER `ECDSA-Sig-Value` for P-384 (PROTOCOL §2).
    public static let maximumSignatureLength = 104

    /// The bytes that are hashed and signed: `label ‖ 0x00 ‖ message`.
    public static func toBeSigned(label: Label, message: some Collection<UInt8>) -> [UInt8] {
        label.bytes + [0x00] + Array(message)
    }

    /// Signs `message` under `label`; returns the DER signature.
    public static func sign(
        _ message: some Collection<UInt8>, label: Label, with key: P384.Signing.PrivateKey
    ) throws(CofferCryptoError) -> [UInt8] {
        do {
            let signature = try key.signature(for: toBeSigned(label: label, message: message))
            return Array(signature.derRepresentation)
        } catch {
            throw CofferCryptoError(.invalidPrivateKey, "signing failed")
        }
    }

    /// Whether `signature` is a valid strict-DER signature by `key` over `label ‖ 0x00 ‖ message`.
    public static func isValid(
        _ signature: some Collection<UInt8>, over message: some Collection<UInt8>, label: Label, by key: P384PublicKey
    ) -> Bool {
        isValidECDSA(signature, over: toBeSigned(label: label, message: message), by: key.signingKey)
    }

    /// Verifies `signature` over `message` itself, without a label: the raw ECDSA layer, for known-answer tests.
    public static func isValidECDSA(
        _ signature: some Collection<UInt8>, over message: some Collection<UInt8>, by key: P384.Signing.PublicKey
    ) -> Bool {
        let signature = Array(signature)
        guard signature.count <= maximumSignatureLength,
            let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature),
            Array(parsed.derRepresentation) == signature
        else { return false }
        return key.isValidSignature(parsed, for: Array(message))
    }
}
