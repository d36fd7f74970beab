/// The one error type of `CofferHost`: why a host could not start (its store, its domain chain, its dev
/// bootstrap). Once running, requests fail with ``CofferKMS/KMSError`` as AWS errors instead.
public struct HostError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The store cannot be opened (missing, unreachable, another schema).
        public static let store = Code("store")
        /// The domain's tokens do not verify from the pinned genesis, or there are none.
        public static let domainChain = Code("domainChain")
        /// `coffer dev`'s seeds or preparation failed.
        public static let bootstrap = Code("bootstrap")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    private let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// What an operator reads: ids and outcomes, never a secret.
    public var description: String { message }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
