/// Standard base64 (RFC 4648 §4, with padding) as AWS JSON carries blobs. Decoding is strict (no white
/// space, padding required, no bits left over in the last character) and writes straight into the
/// caller's buffer, so a secret need never pass through an intermediate array.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The encoding of `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(alphabet[Int(chunk >> 6 & 63)])
            out.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return out
    }

    /// The encoding of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { encode($0) } }

    /// How many bytes `text` decodes to, or nil when it is not strict padded base64.
    public static func decodedCount(_ text: some Collection<UInt8>) -> Int? {
        guard text.count % 4 == 0 else { return nil }
        var padding = 0
        let tail = Array(text.suffix(2))
        if tail.last == UInt8(ascii: "=") { padding += 1 }
        if tail.count == 2, tail[0] == UInt8(ascii: "=") { padding += 1 }
        return text.count / 4 * 3 - padding
    }

    /// Decodes `text` into `out`, which holds exactly ``decodedCount(_:)`` bytes; false when `text` is
    /// not strict padded base64 (then `out` may hold part of the value: the caller zeroizes or drops it).
    /// The text is read in place, four characters at a time, never copied.
    public static func decode(_ text: some Collection<UInt8>, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard let count = decodedCount(text), count == out.count else { return false }
        let groups = text.count / 4
        var characters = text.makeIterator()
        var written = 0
        for group in 0..<groups {
            let last = group == groups - 1
            var chunk: UInt32 = 0
            var pad = 0
            for offset in 0..<4 {
                guard let character = characters.next() else { return false }
                if character == UInt8(ascii: "="), last, offset >= 2 {
                    pad += 1
                    chunk <<= 6
                    continue
                }
                let value = values[Int(character)]
                guard value != 0xFF, pad == 0 else { return false }
                chunk = chunk << 6 | UInt32(value)
            }
            // Bits beyond the decoded bytes must be zero (one encoding per value).
            if pad == 2, chunk & 0xFFFF != 0 { return false }
            if pad == 1, chunk & 0xFF != 0 { return false }
            for byteIndex in 0..<(3 - pad) {
                guard written < out.count else { return false }
                out[written] = UInt8(truncatingIfNeeded: chunk >> (16 - 8 * UInt32(byteIndex)))
                written += 1
            }
        }
        return written == out.count
    }

    /// Decodes non-secret `text`; nil when it is not strict padded base64.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard let count = decodedCount(text) else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        let valid = out.withUnsafeMutableBytes { decode(text, into: $0) }
        return valid ? out : nil
    }
}
