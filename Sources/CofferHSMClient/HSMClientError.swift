import CofferWire

/// The one error type of `CofferHSMClient`.
public struct HSMClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection failed or closed, or the peer sent bytes that are not an envelope.
        public static let transport = Code("transport")
        /// The HSM answered with a failure (see ``HSMClientError/failure``).
        public static let refused = Code("refused")
        /// The accepting HSM is not an online member of the host's verified state, or its id is not the
        /// hash of its key (a man in the middle, or a removed HSM).
        public static let unknownHSM = Code("unknownHSM")
        /// `Sig2` does not verify with the member's key.
        public static let badSignature = Code("badSignature")
        /// The accept answers another init, or its EKT header is not a session of this domain and host.
        public static let badAccept = Code("badAccept")
        /// A domain token from an HSM does not verify as the next step of the host's state.
        public static let badToken = Code("badToken")
        /// `ESK` or a response does not open.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The session is past its `notAfter`.
        public static let expired = Code("expired")
        /// The answer is not the kind the request expects.
        public static let unexpectedAnswer = Code("unexpectedAnswer")
        /// No HSM of the pool could serve the request.
        public static let unavailable = Code("unavailable")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    /// The HSM's failure, for ``Code/refused``.
    public let failure: Failure?
    private let diagnostic: String

    /// An error with a diagnostic.
    public init(_ code: Code, _ diagnostic: String, failure: Failure? = nil) {
        self.code = code
        self.diagnostic = diagnostic
        self.failure = failure
    }

    /// An HSM's refusal.
    public static func refused(_ failure: Failure) -> HSMClientError {
        HSMClientError(.refused, "\(failure.code): \(failure.message)", failure: failure)
    }

    public var description: String { "HSMClientError.\(code): \(diagnostic)" }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.failure?.code == rhs.failure?.code
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
