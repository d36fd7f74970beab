import CofferCrypto
import CofferWire
import Crypto
import Foundation

/// Access keys as Coffer keeps them (docs/access-control.md, "Principals"): the secret access key is
/// printed once and otherwise exists only inside HSMs, as the HMAC-SHA-256 key `"AWS4" + secret` sealed
/// in a backing-key token. A host asks an HSM for the day's key `kDate = HMAC("AWS4" + secret, day)` and
/// derives the rest of the SigV4 signing key itself, so no host ever holds a secret access key.
public enum AccessKeySecrets {
    /// The key spec of a sealed secret: an HMAC-SHA-256 key.
    static let spec = "HMAC_256"
    /// The MAC algorithm that derives `kDate`.
    static let algorithm = "HMAC_SHA_256"
    /// The length of a generated secret access key, in characters (as AWS's).
    public static let secretLength = 40
    /// The longest secret access key accepted from outside (`coffer dev --secret-access-key`, a
    /// credentials file): 128 characters.
    public static let maximumSecretLength = 128
    /// The longest access key id: 128 characters (AWS: 16 to 128).
    public static let maximumAccessKeyIDLength = 128

    /// A new access key id (`AKIA` and 16 characters of base32) and a 40-character secret.
    public static func generate() -> (id: String, secret: SecretBytes) {
        make(from: SecretBytes.random(count: 46))
    }

    /// The access key id and secret that 46 random bytes make (`coffer dev` derives its admin's).
    public static func make(from random: SecretBytes) -> (id: String, secret: SecretBytes) {
        precondition(random.count == 46, "46 bytes make an access key")
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        let id = random.withUnsafeBytes { bytes in
            // 256 is a multiple of 32: every character is equally likely.
            "AKIA" + String(decoding: bytes.prefix(16).map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
        }
        var text = random.withUnsafeBytes { Array(Data($0.suffix(30)).base64EncodedData()) }
        return (id, SecretBytes(consuming: &text))
    }

    /// Whether `id` may name an access key: 1 to 128 characters of `[A-Za-z0-9_]` (IAM's `\w+`; AWS's own
    /// ids have 16 or more, but test credentials such as `test` are shorter).
    public static func isAccessKeyID(_ id: String) -> Bool {
        (1...maximumAccessKeyIDLength).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x5f
            }
    }

    /// Whether `secret` may be a secret access key: 1 to 128 printable ASCII characters.
    public static func isSecret(_ secret: SecretBytes) -> Bool {
        (1...maximumSecretLength).contains(secret.count)
            && secret.withUnsafeBytes { $0.allSatisfy { (0x21...0x7e).contains($0) } }
    }

    /// The key id a sealed secret's token is bound to: the first 16 bytes of
    /// `SHA-256("coffer sigv4 access key" ‖ 0x00 ‖ accessKeyID)`. A token moved to another access key's
    /// row does not match it.
    public static func tokenKeyID(of accessKeyID: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("coffer sigv4 access key".utf8) + [0] + Array(accessKeyID.utf8)).prefix(16))
    }

    /// The HMAC key `"AWS4" + secret` in the length an HSM imports for HMAC_256 (32 to 64 bytes) with the
    /// same HMAC: a shorter key is zero-padded to 32 bytes and a longer one replaced by its SHA-256,
    /// which is what HMAC does with any key (RFC 2104, section 2), so every `kDate` is unchanged.
    static func hmacKey(of secret: SecretBytes) -> SecretBytes {
        var key = Array("AWS4".utf8)
        secret.withUnsafeBytes { key.append(contentsOf: $0) }
        if key.count > 64 {
            var digest = Array(SHA256.hash(data: key))
            key.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
            return SecretBytes(consuming: &digest)
        }
        if key.count < 32 { key += [UInt8](repeating: 0, count: 32 - key.count) }
        return SecretBytes(consuming: &key)
    }

    /// Checks that `token` (DER) is a sealed secret of `accessKeyID`; the parsed token, or nil.
    static func token(_ der: [UInt8], of accessKeyID: String) -> ExportedKeyToken? {
        guard let token = try? ExportedKeyToken(derEncoded: der), token.header.kind == .backingKey,
            token.header.spec == spec, Array(token.header.subject.prefix(16)) == tokenKeyID(of: accessKeyID)
        else { return nil }
        return token
    }
}
