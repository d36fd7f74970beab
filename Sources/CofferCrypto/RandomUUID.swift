/// Random (version 4) UUIDs, as AWS writes request ids, audit event ids and key ids: lowercase
/// `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx` (V is 8, 9, a or b), 122 random bits from the system's generator.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID: three system calls,
/// twice on every request (its request id and its audit record's id). This takes one `getrandom`.
public enum RandomUUID {
    /// A new random UUID in lowercase.
    public static func lowercased() -> String {
        var generator = SystemRandomNumberGenerator()
        return format(high: generator.next(), low: generator.next())
    }

    /// The UUID whose 16 bytes are `high` then `low` (big-endian), with the version and variant bits set.
    static func format(high: UInt64, low: UInt64) -> String {
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if [8, 12, 16, 20].contains(position) { text.append(UInt8(ascii: "-")) }
                text.append(digits[Int((word >> UInt64(60 - 4 * nibble)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
