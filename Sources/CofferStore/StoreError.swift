/// The one error type of `CofferStore`.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The record does not exist.
        public static let notFound = Code("notFound")
        /// A record with that identity exists already (key id, alias name, backing key id, token epoch).
        public static let alreadyExists = Code("alreadyExists")
        /// The record changed so that the change no longer applies (a key no longer primary or now pending
        /// deletion, material other than a related key's).
        public static let conflict = Code("conflict")
        /// The key's row changed since it was read (its version moved): read it again and redo the change.
        public static let stale = Code("stale")
        /// The database cannot be reached now (down, unreachable, too slow): the call changed nothing and
        /// may be retried.
        public static let unavailable = Code("unavailable")
        /// The database did not confirm a COMMIT in time: the change may or may not be in effect.
        public static let outcomeUnknown = Code("outcomeUnknown")
        /// The database failed (I/O, corruption, a schema newer than this build).
        public static let database = Code("database")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    private let diagnostic: String

    init(_ code: Code, _ diagnostic: String) {
        self.code = code
        self.diagnostic = diagnostic
    }

    public var description: String { "StoreError.\(code): \(diagnostic)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
