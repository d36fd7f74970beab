import CofferCrypto
import CofferWire
import Crypto

/// An HSM's identity keys (PROTOCOL §3): born with the process, held only in memory, gone with it.
public struct HSMKeys: Sendable {
    /// `(dHSK, QHSK)`: signs identities, domain tokens and session accepts.
    public let signing: P384.Signing.PrivateKey
    /// `(dHAK, QHAK)`: the recipient key of one-pass ECDH in domain tokens.
    public let agreement: P384.KeyAgreement.PrivateKey

    /// `QHSK` as SPKI (computed once: deriving a public key is a scalar multiplication).
    public let signingPublicKey: P384PublicKey
    /// `QHAK` as SPKI.
    public let agreementPublicKey: P384PublicKey
    /// `hex(H(SPKI of QHSK)[0..<16])`.
    public let hsmID: String

    /// Pairs existing keys.
    public init(signing: P384.Signing.PrivateKey, agreement: P384.KeyAgreement.PrivateKey) {
        self.signing = signing
        self.agreement = agreement
        signingPublicKey = P384PublicKey(signing.publicKey)
        agreementPublicKey = P384PublicKey(agreement.publicKey)
        hsmID = signingPublicKey.fingerprint
    }

    /// Fresh keys from the OS CSPRNG.
    public static func generate() -> HSMKeys {
        HSMKeys(signing: P384.Signing.PrivateKey(), agreement: P384.KeyAgreement.PrivateKey())
    }

    /// Whether `member` is this HSM with these keys.
    public func isMember(_ member: Member) -> Bool {
        member.hsmID == hsmID && member.signingKey == signingPublicKey && member.agreementKey == agreementPublicKey
    }

    /// The signed identity answering an `Identify` with `challenge`.
    public func signedIdentity(
        challenge: [UInt8], domain: (domainID: [UInt8], epoch: Int64)? = nil
    ) throws(DomainError) -> SignedIdentity {
        let identity = HSMIdentity(
            hsmID: hsmID, signingKey: signingPublicKey, agreementKey: agreementPublicKey,
            state: domain == nil ? .uninitialized : .operational, domainID: domain?.domainID, epoch: domain?.epoch,
            challenge: challenge)
        return SignedIdentity(identity: identity, signature: try sign(identity.derBytes, label: .hsmIdentity))
    }

    /// `Sign(dHSK, label, message)`.
    public func sign(_ message: [UInt8], label: Label) throws(DomainError) -> [UInt8] {
        do {
            return try Signing.sign(message, label: label, with: signing)
        } catch {
            throw DomainError(.invalidArgument, "signing failed")
        }
    }
}

/// Where randomness comes from: the OS in production, a fixed stream in tests (so transitions are
/// deterministic functions of their inputs).
public protocol RandomSource {
    /// `count` random bytes.
    mutating func secret(count: Int) -> SecretBytes
}

extension RandomSource {
    /// Random bytes that are not secret (ids, nonces).
    public mutating func bytes(count: Int) -> [UInt8] { secret(count: count).withUnsafeBytes { [UInt8]($0) } }

    /// A fresh P-384 agreement key drawn from this source.
    public mutating func agreementKey() -> P384.KeyAgreement.PrivateKey {
        while true {
            // A 48-byte string is a valid scalar unless it is 0 or ≥ n (probability about 2^-190).
            let scalar = secret(count: 48)
            if let key = scalar.withUnsafeBytes({ try? P384.KeyAgreement.PrivateKey(rawRepresentation: $0) }) {
                return key
            }
        }
    }
}

/// The operating system's CSPRNG, one `getrandom` per draw (PROTOCOL §1, `Random`; ``SystemEntropy``).
public struct SystemRandom: RandomSource {
    /// Creates the source.
    public init() {}
    public mutating func secret(count: Int) -> SecretBytes { SecretBytes.random(count: count) }
}

/// A deterministic stream (SHA-384 in counter mode over a seed), for tests and vectors only.
public struct SeededRandom: RandomSource {
    private let seed: [UInt8]
    private var counter: UInt64 = 0

    /// A stream determined by `seed`.
    public init(seed: String) { self.seed = Array(seed.utf8) }

    public mutating func secret(count: Int) -> SecretBytes {
        var out: [UInt8] = []
        while out.count < count {
            counter += 1
            out += Hash.h(seed + BigEndian.uint64(counter))
        }
        var prefix = Array(out.prefix(count))
        return SecretBytes(consuming: &prefix)
    }
}
