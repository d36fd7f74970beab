/// Bytes as a dictionary key, hashed in one call. `[UInt8]`'s own `hash(into:)` feeds the hasher one
/// element at a time, which was a measurable share of a session request: its caches and anti-replay
/// windows look up digests and sealed tokens of 32 to a few hundred bytes several times per request.
struct ByteKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
