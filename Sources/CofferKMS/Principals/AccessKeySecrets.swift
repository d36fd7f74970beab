import CofferCrypto
import CofferJSON
import CofferWire
import Crypto

/// Access keys as Coffer keeps them (docs/access-control.md, "Principals"): the secret access key is
/// printed once and otherwise exists only inside HSMs, sealed by `sealAccessKey` as a `SIGV4_SECRET`
/// token bound to its access key id and principal. A host asks an HSM for the day's key
/// `kDate = HMAC("AWS4" + secret, day)` (`deriveSigV4DateKey`, for days around the HSM's clock only) and
/// derives the rest of the SigV4 signing key itself, so no host ever holds a secret access key.
public enum AccessKeySecrets {
    /// The token spec of a sealed secret access key.
    static let spec = "SIGV4_SECRET"
    /// The length of a generated secret access key, in characters (as AWS's).
    public static let secretLength = 40
    /// The longest secret access key accepted from outside (`coffer dev --secret-access-key`, a
    /// credentials file): 128 characters.
    public static let maximumSecretLength = WireLimits.accessKeySecretBytes.upperBound
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
        // Base64 straight from the secret's buffer into an array the SecretBytes takes over (no copy left).
        var text = random.withUnsafeBytes { Base64.encode(UnsafeRawBufferPointer(rebasing: $0.suffix(30))) }
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

    /// What a sealed secret's token is bound to: the first 16 bytes of `SHA-256("coffer sigv4 access key" ‖
    /// 0x00 ‖ accessKeyID ‖ 0x00 ‖ principalARN)`, the first half of its subject. A token moved to another
    /// access key's row, or a row pointed at another principal, does not match it.
    public static func binding(accessKeyID: String, principal: String) -> [UInt8] {
        let input = Array("coffer sigv4 access key".utf8) + [0] + Array(accessKeyID.utf8) + [0] + Array(principal.utf8)
        return Array(SHA256.hash(data: input).prefix(16))
    }

    /// Checks that `token` (DER) is the sealed secret of `accessKeyID` for `principal`; the parsed token,
    /// or nil.
    static func token(_ der: [UInt8], of accessKeyID: String, principal: String) -> ExportedKeyToken? {
        guard let token = try? ExportedKeyToken(derEncoded: der), token.header.kind == .backingKey,
            token.header.spec == spec,
            Array(token.header.subject.prefix(16)) == binding(accessKeyID: accessKeyID, principal: principal)
        else { return nil }
        return token
    }
}
