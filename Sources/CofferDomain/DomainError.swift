import CofferWire

/// The one error type of `CofferDomain`: why a command, a token or a chain was refused.
///
/// Each ``Code`` is distinct so tests and operators can tell the failures apart; ``failureCode`` maps it
/// to the code an HSM answers with (PROTOCOL §7 `Failure.code`).
public struct DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The bytes do not parse (a command's arguments, a sealed key list).
        public static let malformed = Code("malformed")
        /// The HSM is in the wrong state for this command (create or join on an operational HSM, …).
        public static let wrongState = Code("wrongState")
        /// The command or token is for another domain.
        public static let wrongDomain = Code("wrongDomain")
        /// `baseEpoch`/`baseDigest` (or a token's epoch/previous) do not match the current state: a replay or a gap.
        public static let staleBase = Code("staleBase")
        /// Outside `issuedAt − clockSkew … expiresAt`, or valid for longer than `commandMaxAge`.
        public static let timeWindow = Code("timeWindow")
        /// An approval names an operator the state does not list.
        public static let unknownOperator = Code("unknownOperator")
        /// An approval's or a token's signature does not verify.
        public static let badSignature = Code("badSignature")
        /// No alternative of the command's rule is satisfied by the distinct signers.
        public static let quorumNotMet = Code("quorumNotMet")
        /// The state has no rule for the command.
        public static let noRule = Code("noRule")
        /// The command would break an invariant of §4 or names something that is not there.
        public static let invalidArgument = Code("invalidArgument")
        /// The domain keys do not open for this member.
        public static let authenticationFailed = Code("authenticationFailed")
        /// A token's state is not what its command produces from the previous state.
        public static let stateMismatch = Code("stateMismatch")
        /// A token's exporter is not an online member (of the previous and the new state, with the same keys).
        public static let badExporter = Code("badExporter")
        /// A token's recipients are not exactly the new state's members.
        public static let badRecipients = Code("badRecipients")
        /// A chain does not start at the pinned genesis (or the anchor a recovery pins).
        public static let wrongGenesis = Code("wrongGenesis")
        /// A recovery has fewer shares of its kit than the kit's threshold.
        public static let tooFewShares = Code("tooFewShares")
        /// A recovery share is of another kit than the others, or of no recovery member of the domain.
        public static let foreignShare = Code("foreignShare")
        /// A recovery share is sealed to another key than the one opening it.
        public static let misaddressedShare = Code("misaddressedShare")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    private let diagnostic: String

    init(_ code: Code, _ diagnostic: String) {
        self.code = code
        self.diagnostic = diagnostic
    }

    /// The human-readable detail (ids and outcomes only, never secrets).
    public var message: String { diagnostic }

    public var description: String { "DomainError.\(code): \(diagnostic)" }

    /// The code an HSM answers with.
    public var failureCode: Failure.Code {
        switch code {
        case .malformed: .malformed
        case .wrongState: .wrongState
        case .wrongDomain: .wrongDomain
        case .staleBase: .staleBase
        case .timeWindow: .timeWindow
        case .unknownOperator: .unknownOperator
        case .badSignature, .badExporter: .badSignature
        case .quorumNotMet: .quorumNotMet
        case .noRule: .noRule
        case .authenticationFailed, .misaddressedShare: .authenticationFailed
        default: .invalidArgument
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static func wire(_ error: WireError) -> DomainError { DomainError(.malformed, "\(error)") }
}
