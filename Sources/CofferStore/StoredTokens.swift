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

/// A walk over every stored token, a page at a time in ``TokenPlace`` order (the re-wrap job and the
/// census both walk the store this way).
public struct StoredTokenPages: Sendable {
    private let size: Int
    private var after: TokenPlace?
    private var finished = false

    /// A walk from the first token, `size` tokens a page.
    public init(size: Int) {
        self.size = size
    }

    /// The next page of `store`, or nil past the last.
    public mutating func next(from store: any KeyStore) async throws(StoreError) -> [StoredToken]? {
        guard !finished else { return nil }
        let page = try await store.storedTokens(after: after, limit: size)
        finished = page.count < size
        after = page.last?.place
        return page.isEmpty ? nil : page
    }
}
