/// The one error type of `CofferWire`.
///
/// ``code`` is what a peer is told (PROTOCOL §7 `Failure.code`: nearly always `malformed`);
/// ``reason`` is a stable word saying which rule was broken, for logs and tests (the words follow the
/// reference implementation's reasons in `vectors/coffer/protocol.json`); the diagnostic names the field.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What the peer is told.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case malformed
            case unsupported
            case frameTooLarge
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The bytes break a rule of PROTOCOL §2 (strict DER, sizes, ranges, order) or the schema.
        public static let malformed = Code(.malformed)
        /// A well-formed Envelope of a version this implementation does not speak.
        public static let unsupported = Code(.unsupported)
        /// A frame's length prefix is over the 1 MiB limit: the connection is closed without an answer.
        public static let frameTooLarge = Code(.frameTooLarge)

        public var description: String { String(describing: base) }
    }

    /// Which rule was broken.
    public enum Reason: String, Hashable, Sendable {
        /// swift-asn1 refused the encoding: indefinite or non-minimal length, non-minimal tag,
        /// truncation, trailing bytes after the outermost value, excessive nesting.
        case der
        case nonMinimalInteger, outOfRange, unknownVersion, unexpectedTag, badConstructed, badExplicit
        case unknownBody, unknownCommand, unknownResult, missingField, extraField, tooLarge, tooMany, badSize
        case badIdentity, badHsmID, unsorted, duplicate, badDomainKeys, emptyRule, badPublicKey, badTime
        case badBoolean, badNull, badUTF8, badSignature, emptyFrame, frameTooLarge
    }

    /// What the peer is told.
    public let code: Code
    /// Which rule was broken.
    public let reason: Reason
    private let diagnostic: String

    init(_ reason: Reason, _ diagnostic: String, code: Code = .malformed) {
        self.code = code
        self.reason = reason
        self.diagnostic = diagnostic
    }

    public var description: String { "WireError.\(code)(\(reason.rawValue)): \(diagnostic)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.reason == rhs.reason }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(reason)
    }
}
