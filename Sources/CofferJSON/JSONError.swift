/// The one error type of `CofferJSON`: why a body is not the JSON a request may carry.
public struct JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Not JSON: a grammar error, invalid UTF-8, a lone surrogate, a control character in a string.
        public static let malformed = Code("malformed")
        /// Nested deeper than ``JSONReader/maximumDepth``.
        public static let tooDeep = Code("tooDeep")
        /// One object names the same member twice (byte for byte).
        public static let duplicateMember = Code("duplicateMember")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    /// The byte offset where reading stopped.
    public let offset: Int

    init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String { "JSONError.\(code) at byte \(offset)" }
}
