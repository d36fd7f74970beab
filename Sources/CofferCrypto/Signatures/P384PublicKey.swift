import Crypto
import Foundation

/// A P-384 public key in the one form Coffer accepts: the 120-byte SubjectPublicKeyInfo with
/// id-ecPublicKey, namedCurve secp384r1 and an uncompressed point on the curve (PROTOCOL §1).
///
/// Every other form (compressed point, explicit parameters, another curve, a point off the curve) is
/// refused while parsing, for ephemeral keys too.
public struct P384PublicKey: Hashable, Sendable {
    /// The exact length of an accepted SPKI (PROTOCOL §1).
    public static let spkiLength = 120
    /// `30 76 30 10 06 07 2a8648ce3d0201 06 05 2b81040022 03 62 00`: everything before the point.
    public static let spkiPrefix: [UInt8] = [
        0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81,
        0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
    ]

    /// The DER SubjectPublicKeyInfo, exactly as it travels.
    public let spki: [UInt8]
    /// `H(SPKI)`: a host's session subject (§7) and the basis of an `hsmID` (§3). Computed once, as every
    /// session request compares its token's subject with the hosts' keys.
    public let digest: [UInt8]

    private init(validatedSPKI spki: [UInt8]) {
        self.spki = spki
        digest = Hash.h(spki)
    }

    public static func == (lhs: P384PublicKey, rhs: P384PublicKey) -> Bool { lhs.spki == rhs.spki }

    public func hash(into hasher: inout Hasher) { hasher.combine(spki) }

    /// Parses and validates a SubjectPublicKeyInfo.
    public init(spki bytes: some Collection<UInt8>) throws(CofferCryptoError) {
        let bytes = Array(bytes)
        guard bytes.count == Self.spkiLength, bytes.starts(with: Self.spkiPrefix) else {
            throw CofferCryptoError(.invalidPublicKey, "not a 120-byte P-384 SPKI with an uncompressed point")
        }
        try self.init(x963: bytes[Self.spkiPrefix.count...])
    }

    /// Validates a bare X9.62 uncompressed point (`04 X Y`).
    public init(x963 point: some Collection<UInt8>) throws(CofferCryptoError) {
        let point = Array(point)
        guard point.count == 97, point.first == 0x04 else {
            throw CofferCryptoError(.invalidPublicKey, "not an uncompressed P-384 point")
        }
        do {
            _ = try P384.Signing.PublicKey(x963Representation: point)
        } catch {
            throw CofferCryptoError(.invalidPublicKey, "the point is not on P-384")
        }
        self.init(validatedSPKI: Self.spkiPrefix + point)
    }

    /// The public half of a signing key.
    public init(_ key: P384.Signing.PublicKey) {
        self.init(validatedSPKI: Self.spkiPrefix + Array(key.x963Representation))
    }

    /// The public half of an agreement key.
    public init(_ key: P384.KeyAgreement.PublicKey) {
        self.init(validatedSPKI: Self.spkiPrefix + Array(key.x963Representation))
    }

    /// The uncompressed point `04 X Y`.
    public var x963: ArraySlice<UInt8> { spki[Self.spkiPrefix.count...] }

    /// The key for ECDSA verification. Validated at init, so this cannot fail.
    public var signingKey: P384.Signing.PublicKey {
        // The point was validated by init; failing here would be a broken invariant, not peer input.
        guard let key = try? P384.Signing.PublicKey(x963Representation: x963) else {
            preconditionFailure("a validated P-384 point failed to load")
        }
        return key
    }

    /// The key for ECDH. Validated at init, so this cannot fail.
    public var agreementKey: P384.KeyAgreement.PublicKey {
        guard let key = try? P384.KeyAgreement.PublicKey(x963Representation: x963) else {
            preconditionFailure("a validated P-384 point failed to load")
        }
        return key
    }

    /// Lowercase hex of the first 16 bytes of `H(SPKI)`: the `hsmID` when this is an HSM's signing
    /// key (§3), and the fingerprint the operator tools print for any key.
    public var fingerprint: String { Hex.encode(digest.prefix(16)) }
}

/// Lowercase hexadecimal.
public enum Hex {
    /// Lowercase hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0)) }) { return text }
        return Array(bytes).withUnsafeBytes { encode($0) }
    }

    /// Lowercase hex of a digest, read in place (a digest's own iterator goes byte by byte through a
    /// generic `Sequence`: a tenth of a SigV4 verification).
    public static func encode(_ digest: some Digest) -> String {
        digest.withUnsafeBytes { encode($0) }
    }

    /// Lowercase hex of the bytes of `buffer`, written into the string's own storage.
    public static func encode(_ buffer: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            for (index, byte) in buffer.enumerated() {
                out[2 * index] = digit(byte >> 4)
                out[2 * index + 1] = digit(byte & 0x0f)
            }
            return buffer.count * 2
        }
    }

    /// The lowercase hex digit of a value below 16.
    static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The bytes of a hex string (either case), or `nil` if it is not hex of whole bytes.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
