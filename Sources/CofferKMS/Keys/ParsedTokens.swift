import CofferWire
import Synchronization

/// Backing-key tokens already parsed, by their exact DER: a cryptographic request sends its key's current
/// token to the HSM, and parsing the stored bytes again on every request was about one percent of a
/// GenerateDataKey's CPU. Parsing is a pure function of the bytes, so an entry is the parse itself and
/// never stale; a token that does not parse is not kept. Bounded: past ``limit`` entries the cache starts
/// afresh. Tokens are ciphertext (sealed under a domain key), like the store's rows they come from.
final class ParsedTokens: Sendable {
    /// The most tokens kept.
    static let limit = 10_000

    private let entries = Mutex<[[UInt8]: ExportedKeyToken]>([:])

    /// `bytes` parsed, from the cache when it holds them.
    func token(_ bytes: [UInt8]) -> ExportedKeyToken? {
        if let kept = entries.withLock({ $0[bytes] }) { return kept }
        guard let token = try? ExportedKeyToken(derEncoded: bytes) else { return nil }
        entries.withLock { entries in
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[bytes] = token
        }
        return token
    }

    /// How many are kept (for tests).
    var count: Int { entries.withLock { $0.count } }
}
