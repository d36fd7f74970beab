import Crypto

/// `KDF(Z, alg, U, V, extra)` of PROTOCOL §1: the SP 800-56C one-step KDF, option 1 (hash), with
/// SHA-384 and L = 256 bits, so one hash block: `K = SHA-384(00000001 ‖ Z ‖ FixedInfo)[0..<32]`.
public enum OneStepKDF {
    /// L in bytes.
    public static let outputLength = 32

    /// `FixedInfo = LV(alg) ‖ LV(U) ‖ LV(V) ‖ LV(extra) ‖ 00000100` (L = 256 as uint32be).
    public static func fixedInfo(
        algorithm: some Collection<UInt8>, partyU: some Collection<UInt8>, partyV: some Collection<UInt8>,
        extra: some Collection<UInt8>
    ) -> [UInt8] {
        BigEndian.lengthValue(algorithm) + BigEndian.lengthValue(partyU) + BigEndian.lengthValue(partyV)
            + BigEndian.lengthValue(extra) + BigEndian.uint32(UInt32(outputLength * 8))
    }

    /// A party's info `id ‖ Q` as §1 defines it: `LV(UTF-8 id) ‖ LV(SPKI of Q)`.
    public static func partyInfo(id: String, publicKey: P384PublicKey) -> [UInt8] {
        BigEndian.lengthValue(Array(id.utf8)) + BigEndian.lengthValue(publicKey.spki)
    }

    /// Derives the 256-bit key.
    public static func derive(
        sharedSecret z: SecretBytes, algorithm: some Collection<UInt8>, partyU: some Collection<UInt8>,
        partyV: some Collection<UInt8>, extra: some Collection<UInt8>
    ) -> SymmetricKey {
        var hasher = SHA384()
        hasher.update(data: BigEndian.uint32(1))
        z.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(data: fixedInfo(algorithm: algorithm, partyU: partyU, partyV: partyV, extra: extra))
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { SymmetricKey(data: $0.prefix(outputLength)) }
    }

    /// The KDF with one of Coffer's labels as `alg`.
    public static func derive(
        sharedSecret z: SecretBytes, label: Label, partyU: some Collection<UInt8>, partyV: some Collection<UInt8>,
        extra: some Collection<UInt8>
    ) -> SymmetricKey {
        derive(sharedSecret: z, algorithm: label.bytes, partyU: partyU, partyV: partyV, extra: extra)
    }
}
