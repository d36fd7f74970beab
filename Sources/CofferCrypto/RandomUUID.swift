/// Random (version 4) UUIDs, as AWS writes request ids, audit event ids and key ids: lowercase
/// `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx` (V is 8, 9, a or b), 122 random bits from the system's generator.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID: three system calls,
/// twice on every request (its request id and its audit record's id). This draws its 16 bytes from
/// ``SystemEntropy`` (one `getrandom` call).
public enum RandomUUID {
    /// A new random UUID in lowercase.
    public static func lowercased() -> String {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { SystemEntropy.fill($0) }
        return format(high: words.0, low: words.1)
    }

    /// The UUID whose 16 bytes are `high` then `low` (big-endian), with the version and variant bits set:
    /// its 32 hex digits written once into the string, a dash before digits 8, 12, 16 and 20.
    static func format(high: UInt64, low: UInt64) -> String {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = digit < 16 ? high : low
                let value = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (digit % 16))) & 0xF
                text[at] = Hex.digit(value)
                at += 1
            }
            return at
        }
    }
}
