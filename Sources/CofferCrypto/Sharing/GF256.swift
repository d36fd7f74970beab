/// Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), as PROTOCOL §8's
/// Shamir splitting uses it. Multiplication is branch-free in its operands (no log tables indexed by
/// secret bytes, so no cache-timing leak).
public enum GF256 {
    /// `a · b` mod 0x11b.
    public static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a
        var b = b
        var product: UInt8 = 0
        for _ in 0..<8 {
            product ^= a & (0 &- (b & 1))
            let carry = 0 &- (a >> 7)
            a = (a << 1) ^ (0x1b & carry)
            b >>= 1
        }
        return product
    }

    /// `a⁻¹` (as `a^254`); the inverse of 0 is defined here as 0.
    public static func inverse(_ a: UInt8) -> UInt8 {
        // a^254 = a^(2+4+8+16+32+64+128)
        var result: UInt8 = 1
        var square = a
        for _ in 0..<7 {
            square = multiply(square, square)
            result = multiply(result, square)
        }
        return result
    }
}
