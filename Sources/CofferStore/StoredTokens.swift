/// Where a stored key token lives: a backing key's row or an access key's row. The re-wrap job walks every
/// token of the store in this order (backing keys by row, then access keys by id) and replaces each one
/// sealed under an older domain key.
public enum TokenPlace: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A backing key (`backing_keys.seq`).
    case backingKey(Int64)
    /// An access key's sealed secret (`access_keys.access_key_id`).
    case accessKey(String)

    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.backingKey(let a), .backingKey(let b)): a < b
        case (.backingKey, .accessKey): true
        case (.accessKey, .backingKey): false
        case (.accessKey(let a), .accessKey(let b)): Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        }
    }

    public var description: String {
        switch self {
        case .backingKey(let seq): "backing key row \(seq)"
        case .accessKey(let id): "access key \(id)"
        }
    }
}

/// One stored token: its place and its DER (an `ExportedKeyToken`, ciphertext only).
public struct StoredToken: Hashable, Sendable {
    /// Where it lives.
    public var place: TokenPlace
    /// The token's DER.
    public var token: [UInt8]

    /// A stored token.
    public init(place: TokenPlace, token: [UInt8]) {
        self.place = place
        self.token = token
    }
}
