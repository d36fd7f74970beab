/// Shamir secret sharing over GF(2^8), byte by byte, with x = 1 … N (PROTOCOL §8, recovery keys).
///
/// For each byte `i` of the secret, share `x` holds `f_i(x)` where `f_i(0)` is the secret byte and the
/// other M − 1 coefficients are random. Any M shares give the secret back; M − 1 give nothing.
public enum Shamir {
    /// The most shares a split can make (x runs over 1 … 255).
    public static let maximumShares = 255

    /// One share: its x coordinate (1 … 255) and one y byte per secret byte.
    public struct Share: Sendable, Equatable {
        /// The x coordinate, never 0.
        public let x: UInt8
        /// The y bytes (secret: M of them give the secret).
        public let y: SecretBytes

        /// Makes a share from its parts.
        public init(x: UInt8, y: SecretBytes) {
            self.x = x
            self.y = y
        }
    }

    /// Splits `secret` into `count` shares, any `threshold` of which recover it.
    ///
    /// `randomness(n)` is called `threshold − 1` times with `n = secret.count`; call `k` gives the
    /// coefficients of x^k. Production callers pass the default (the OS CSPRNG); tests pass known bytes.
    public static func split(
        _ secret: SecretBytes, threshold: Int, count: Int,
        randomness: (Int) -> SecretBytes = { SecretBytes.random(count: $0) }
    ) throws(CofferCryptoError) -> [Share] {
        guard threshold >= 2, threshold <= count, count <= maximumShares, secret.count > 0 else {
            throw CofferCryptoError(.invalidShares, "need 2 ≤ threshold ≤ count ≤ 255 and a non-empty secret")
        }
        let coefficients = (1..<threshold).map { _ in randomness(secret.count) }
        guard coefficients.allSatisfy({ $0.count == secret.count }) else {
            throw CofferCryptoError(.invalidLength, "randomness returned the wrong number of bytes")
        }
        return (1...count).map { index in
            let x = UInt8(index)
            let y = SecretBytes(count: secret.count) { out in
                secret.withUnsafeBytes { s in
                    for byte in 0..<s.count {
                        // Horner's rule from the highest coefficient down to the secret byte.
                        var value: UInt8 = 0
                        for k in stride(from: coefficients.count - 1, through: 0, by: -1) {
                            let c = coefficients[k].withUnsafeBytes { $0[byte] }
                            value = GF256.multiply(value ^ c, x)
                        }
                        out[byte] = GF256.multiply(value, 1) ^ s[byte]
                    }
                }
            }
            return Share(x: x, y: y)
        }
    }

    /// Lagrange interpolation at 0 of the given shares.
    ///
    /// Refuses an empty set, a share with x = 0, two shares with one x, and shares of unequal length.
    /// With fewer shares than the threshold it returns bytes that are not the secret: the caller must
    /// know the threshold (a recovery kit records it).
    public static func combine(_ shares: [Share]) throws(CofferCryptoError) -> SecretBytes {
        guard let length = shares.first?.y.count, length > 0 else {
            throw CofferCryptoError(.invalidShares, "no shares")
        }
        guard shares.allSatisfy({ $0.x != 0 && $0.y.count == length }) else {
            throw CofferCryptoError(.invalidShares, "a share has x = 0 or a different length")
        }
        guard Set(shares.map(\.x)).count == shares.count else {
            throw CofferCryptoError(.invalidShares, "two shares with the same x")
        }
        // Lagrange basis at 0: l_j = Π_{m≠j} x_m / (x_m − x_j); subtraction is XOR in GF(2^8).
        let basis: [UInt8] = shares.indices.map { j in
            var numerator: UInt8 = 1
            var denominator: UInt8 = 1
            for m in shares.indices where m != j {
                numerator = GF256.multiply(numerator, shares[m].x)
                denominator = GF256.multiply(denominator, shares[m].x ^ shares[j].x)
            }
            return GF256.multiply(numerator, GF256.inverse(denominator))
        }
        return SecretBytes(count: length) { out in
            for (j, share) in shares.enumerated() {
                share.y.withUnsafeBytes { y in
                    for byte in 0..<length {
                        out[byte] ^= GF256.multiply(y[byte], basis[j])
                    }
                }
            }
        }
    }
}
