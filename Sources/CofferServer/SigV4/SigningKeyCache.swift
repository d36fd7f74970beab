import CofferCrypto
import Crypto
import Synchronization

/// Signing keys `kSigning` already derived, per access key, day, region and service (issue 12): a caller
/// signs every request of a day with the same key, which is four HMACs to derive from its secret or three
/// from its day's key.
///
/// - A key is kept only once a request signed with it has been verified (``keep(_:derivedFrom:for:)``), so requests
///   with a made-up scope or a wrong signature, which anyone who knows an access key id can send, neither
///   add entries nor push a real caller's key out.
/// - An entry is used only while the caller's secret or day key is the same as when it was derived: the
///   entry holds a SHA-256 digest of it (not the secret itself), compared in constant time, so a changed
///   secret never meets an old key and a secret removed from the store does not stay here.
/// - Bounded: past ``limit`` entries the cache starts afresh. Keys are held as swift-crypto
///   `SymmetricKey`s, whose memory is zeroed when they are freed.
final class SigningKeyCache: Sendable {
    /// The most keys kept.
    static let limit = 1_024

    /// Where a kept key applies: the credential scope, and whether it was derived from a secret or from a
    /// day key (the derivations differ).
    struct Place: Hashable, Sendable {
        let accessKeyID: String
        let day: String
        let region: String
        let service: String
        let fromDayKey: Bool
    }

    /// A signing key with its HMAC-SHA256 state after the key (both pads hashed): a signature copies the
    /// state and hashes the string to sign, instead of hashing the key's pads again (swift-crypto's
    /// `HMAC.init`, about a fifth of SigV4's cost per request). swift-crypto's hash state is copied on
    /// write, so signing never changes the kept state.
    struct Signer: Sendable {
        /// `kSigning`.
        let key: SymmetricKey
        private let keyed: HMAC<SHA256>

        init(key: SymmetricKey) {
            self.key = key
            keyed = HMAC(key: key)
        }

        /// Hex `HMAC(kSigning, string to sign)`.
        func signature(_ stringToSign: [UInt8]) -> String {
            var mac = keyed
            mac.update(data: stringToSign)
            return mac.finalize().withUnsafeBytes { Hex.encode($0) }
        }
    }

    private struct Entry {
        let sourceDigest: SHA256Digest
        let signer: Signer
    }

    private let entries = Mutex<[Place: Entry]>([:])

    /// The kept signer of `place`, if its key was derived from the same `source` (a secret or a day key).
    func signer(for place: Place, source: SecretBytes) -> Signer? {
        guard let entry = entries.withLock({ $0[place] }) else { return nil }
        let digest = source.withUnsafeBytes { SHA256.hash(data: $0) }
        let same = digest.withUnsafeBytes { a in entry.sourceDigest.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
        guard same else { return nil }
        return entry.signer
    }

    /// Keeps `signer`, its key derived from `source`, for `place`: call only once a request signed with it
    /// verified.
    func keep(_ signer: Signer, derivedFrom source: SecretBytes, for place: Place) {
        let digest = source.withUnsafeBytes { SHA256.hash(data: $0) }
        entries.withLock { entries in
            if entries[place] == nil, entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[place] = Entry(sourceDigest: digest, signer: signer)
        }
    }

    /// How many keys are kept (for tests).
    var count: Int { entries.withLock { $0.count } }
}
