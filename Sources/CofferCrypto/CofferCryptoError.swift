/// The one error type of `CofferCrypto`.
///
/// Like `NIOSSHError`, it carries a stable ``code`` and private diagnostics. Every failure to open a
/// sealed value is ``Code/authenticationFailed`` with no detail, so no caller can tell a bad tag from a
/// bad key or a truncated input (PROTOCOL §1, `Open`).
public struct CofferCryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidPublicKey
            case invalidPrivateKey
            case invalidSignatureEncoding
            case authenticationFailed
            case invalidLength
            case invalidShares
            case keyFile
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A public key that is not the 120-byte P-384 SubjectPublicKeyInfo of a point on the curve (PROTOCOL §1).
        public static let invalidPublicKey = Code(.invalidPublicKey)
        /// A private scalar or key file that does not hold a valid P-384 private key.
        public static let invalidPrivateKey = Code(.invalidPrivateKey)
        /// A signature that is not a strict-DER `ECDSA-Sig-Value` of at most 104 bytes.
        public static let invalidSignatureEncoding = Code(.invalidSignatureEncoding)
        /// `Open` failed: wrong key, wrong AAD, altered or truncated input. Deliberately without detail.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// An input of a length the primitive does not take (key, IV, share, threshold).
        public static let invalidLength = Code(.invalidLength)
        /// Shamir shares that cannot be combined (duplicate or zero x, unequal lengths, too few).
        public static let invalidShares = Code(.invalidShares)
        /// A key file could not be read or written as required (exists, permissions, format).
        public static let keyFile = Code(.keyFile)

        public var description: String { String(describing: base) }
    }

    /// The stable error code.
    public let code: Code
    private let diagnostic: String

    package init(_ code: Code, _ diagnostic: String = "") {
        self.code = code
        self.diagnostic = diagnostic
    }

    /// Convenience for the one opaque AEAD failure.
    static let authenticationFailed = CofferCryptoError(.authenticationFailed)

    public var description: String {
        diagnostic.isEmpty ? "CofferCryptoError.\(code)" : "CofferCryptoError.\(code): \(diagnostic)"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
