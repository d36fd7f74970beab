/// The sizes and ranges of PROTOCOL §2's table, each checked while parsing, before any cryptography.
public enum WireLimits {
    /// Frame: DER bytes after the 4-byte length (§2, §7).
    public static let frameBytes = 1...1_048_576
    /// `Envelope.id` and epochs: 0 … 2^63−1 (§2).
    public static let idRange: ClosedRange<Int64> = 0...Int64.max
    /// `requestID` and a request Envelope's id: 1 … 2^63−1 (§2, §7).
    public static let requestIDRange: ClosedRange<Int64> = 1...Int64.max
    /// Names: operator, host, role, command, domain name, spec (§2).
    public static let nameBytes = 1...128
    /// `hsmID`: exactly 32 lowercase hex characters (§2, §3).
    public static let hsmIDLength = 32
    /// `domainID`: exactly 16 bytes (§2).
    public static let domainIDLength = 16
    /// KMS `keyID`, `backingKeyID`, `importID`, nonce `N`, quorum and session nonces (§2).
    public static let keyIDLength = 16
    /// Domain key ids (§2).
    public static let domainKeyIDLength = 8
    /// `H` digests: `previous`, `baseDigest`, `initDigest`, a session subject (§1).
    public static let digestLength = 48
    /// The Identify challenge and the one echoed in HSMIdentity (§3).
    public static let challengeLength = 16
    /// Signatures (§1, §2).
    public static let signatureMaximum = 104
    /// Encryption context pairs (§2).
    public static let contextPairsMaximum = 64
    /// Encryption context key bytes (§2).
    public static let contextKeyBytes = 1...2048
    /// Encryption context value bytes (§2).
    public static let contextValueBytes = 0...2048
    /// All keys and values of one context together (§2).
    public static let contextTotalMaximum = 8192
    /// Encrypt plaintext (§2).
    public static let plaintextBytes = 1...4096
    /// `generateRandom` and data key lengths (§2, §7).
    public static let dataKeyBytes = 1...1024
    /// A symmetric ciphertext blob (§2, §8): 61 + 1 + 16 … 61 + 4096 + 16.
    public static let blobBytes = 78...4173
    /// `Failure.message` (§2).
    public static let failureMessageMaximum = 1024
    /// `esk` and `wrappedDKEK`: Seal of a 32-byte key (§2).
    public static let sealedKeyLength = 60
    /// EKT `sealed` (§2).
    public static let ektSealedBytes = 29...8220
    /// A domain key's material (§6).
    public static let domainKeyMaterialLength = 32
    /// Any list (§2).
    public static let listMaximum = 1024
    /// DER nesting depth (§2). Every schema here is shallower, so deeper input fails the schema; swift-asn1
    /// itself stops at 50 levels, which bounds the parser's recursion.
    public static let nestingMaximum = 32
    /// Requirements in one Rule (§4).
    public static let ruleRequirements = 1...64
    /// Alternatives in one CommandRule (§4).
    public static let ruleAlternatives = 1...16
    /// `Requirement.minimum` (§4).
    public static let requirementMinimum = 1...64
    /// Approvals in one SignedCommand (§5).
    public static let approvalsMaximum = 64
    /// `Parameters.sessionLifetime` in seconds (§4).
    public static let sessionLifetime = 1...86_400
    /// `Parameters.domainKeyRetention`, the active key included (§4).
    public static let domainKeyRetention = 1...64
    /// `Parameters.commandMaxAge` in seconds (§4).
    public static let commandMaxAge = 1...2_592_000
    /// `Parameters.clockSkew` in seconds (§4).
    public static let clockSkew = 0...3600
    /// A `sign`/`verify`/`generateMac`/`verifyMac` message: AWS's 4096 bytes (docs/protocol.md, keys).
    public static let messageBytes = 1...4096
    /// A signature: AWS's `Signature` member (6144 bytes holds every spec's).
    public static let signatureBytes = 1...6144
    /// A MAC: HMAC-SHA-512's 64 bytes at most.
    public static let macBytes = 1...64
    /// An RSA-OAEP ciphertext: AWS's `CiphertextBlob` bound (an RSA-4096 ciphertext is 512 bytes).
    public static let asymmetricCiphertextBytes = 1...6144
    /// reEncryptWith's ciphertext (docs/protocol.md, "Signing and MAC keys", an extension of PROTOCOL §7): a
    /// §8 blob or an RSA-OAEP ciphertext (the larger of the two bounds).
    public static let reEncryptCiphertextBytes = 1...6144
    /// An ECDH shared secret: the x-coordinate of P-256, P-384 or P-521 (32, 48, 66 bytes).
    public static let sharedSecretBytes = 32...66
    /// ImportKeyMaterial's `EncryptedKeyMaterial`: AWS's 1 … 6144 bytes, which an RSA-4096 key wrapped
    /// with RSA_AES_KEY_WRAP (512 + 8 + its PKCS#8) fits.
    public static let encryptedKeyMaterialBytes = 1...6144
    /// An imported key material id: SHA-256 (docs/protocol.md).
    public static let keyMaterialIDLength = 32
    /// A public key's SubjectPublicKeyInfo: AWS's `PublicKey` member.
    public static let publicKeyBytes = 1...8192
    /// A secret access key sealed by `sealAccessKey` (docs/protocol.md, "Access keys").
    public static let accessKeySecretBytes = 1...128
    /// The binding of a sealed access key (the first half of its token's subject).
    public static let accessKeyBindingLength = 16
    /// A recovery kit's threshold and share count (docs/protocol.md, "Recovery"): Shamir's x runs over 1 … 255.
    public static let shareThreshold = 2...255
    /// A share's x coordinate.
    public static let shareIndex = 1...255
    /// Shares in one recover request (one kit has at most 255).
    public static let sharesMaximum = 255
    /// `SealedShare.sealed`: Seal of the 48 y bytes of a P-384 scalar (12 + 48 + 16).
    public static let sealedShareLength = 76
    /// A SigV4 credential scope's day, `yyyyMMdd`.
    public static let sigV4DayLength = 8
}
