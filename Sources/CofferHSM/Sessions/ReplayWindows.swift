import CofferWire

/// Anti-replay for session requests (PROTOCOL §7): per HSM, keyed by `H(DER(ekt))`, a sliding window of
/// 1024 request ids. With `Hi` the highest id recorded, an id ≤ `Hi − 1024` or already recorded is a
/// replay. An id is recorded only after the request's `sealed` opened (``record(_:in:)`` is separate
/// from ``check(_:in:)``). Windows are kept until their session's `notAfter + clockSkew`; when the table
/// is full of live windows, a request for a new session is refused with `overloaded` rather than evict
/// a live window (which would let a captured request be replayed).
struct ReplayWindows: Sendable {
    /// The window width (§7).
    static let width: Int64 = 1024
    /// How many sessions' windows one HSM keeps.
    static let capacity = 65_536

    private struct Window: Sendable {
        var highest: Int64
        /// Bit `i` set: `highest − i` recorded.
        var bits: [UInt64] = Array(repeating: 0, count: Int(ReplayWindows.width / 64))
        let expires: WireTime

        func contains(_ id: Int64) -> Bool {
            let offset = highest - id
            guard offset >= 0, offset < ReplayWindows.width else { return false }
            return bits[Int(offset / 64)] & (1 << UInt64(offset % 64)) != 0
        }

        mutating func insert(_ id: Int64) {
            if id > highest {
                shift(by: id - highest)
                highest = id
            }
            let offset = highest - id
            bits[Int(offset / 64)] |= 1 << UInt64(offset % 64)
        }

        private mutating func shift(by amount: Int64) {
            guard amount < ReplayWindows.width else {
                bits = Array(repeating: 0, count: bits.count)
                return
            }
            let words = Int(amount / 64)
            let shiftBits = UInt64(amount % 64)
            var shifted = [UInt64](repeating: 0, count: bits.count)
            for index in stride(from: bits.count - 1, through: words, by: -1) {
                var word = bits[index - words] << shiftBits
                if shiftBits > 0, index - words - 1 >= 0 { word |= bits[index - words - 1] >> (64 - shiftBits) }
                shifted[index] = word
            }
            bits = shifted
        }
    }

    private var windows: [ByteKey: Window] = [:]
    private let capacity: Int

    init(capacity: Int = ReplayWindows.capacity) { self.capacity = capacity }

    /// Refuses a replayed or too-old id, or a new session when the table is full of live windows.
    mutating func check(_ id: Int64, session: [UInt8], expires: WireTime, now: WireTime) throws(Failure) {
        if let window = windows[ByteKey(session)] {
            guard id > window.highest - Self.width, !window.contains(id) else {
                throw Failure(.replay, "request id \(id) was already served or is below the window")
            }
            return
        }
        if windows.count >= capacity {
            windows = windows.filter { $0.value.expires >= now }
            guard windows.count < capacity else {
                throw Failure(.overloaded, "the anti-replay table is full of live sessions")
            }
        }
    }

    /// Records `id` after its request opened.
    mutating func record(_ id: Int64, session: [UInt8], expires: WireTime) {
        windows[ByteKey(session), default: Window(highest: id, expires: expires)].insert(id)
    }

    /// How many windows are kept.
    var count: Int { windows.count }
}
