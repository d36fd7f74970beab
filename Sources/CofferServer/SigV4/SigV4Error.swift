/// Why a request's AWS Signature Version 4 was refused. ``awsErrorName`` is the exception AWS sends.
public struct SigV4Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// No signature, or a signature whose parts are missing or malformed (AWS: IncompleteSignatureException).
        public static let incompleteSignature = Code("incompleteSignature")
        /// Neither an Authorization header nor a query-string signature (AWS:
        /// MissingAuthenticationTokenException).
        public static let missingAuthenticationToken = Code("missingAuthenticationToken")
        /// The access key id is not known (AWS: UnrecognizedClientException).
        public static let unrecognizedClient = Code("unrecognizedClient")
        /// The signature does not match, the scope is wrong, the date is outside ±15 minutes, or the body
        /// does not match its declared hash (AWS: InvalidSignatureException).
        public static let invalidSignature = Code("invalidSignature")
        /// The caller's credentials could not be looked up (the store or the HSM failed; answered as
        /// DependencyTimeoutException, 500, which SDKs retry): nothing about the caller is known, so nothing is
        /// refused as theirs.
        public static let unavailable = Code("unavailable")

        public var description: String { name }
    }

    /// Why.
    public let code: Code
    /// A message safe to return to the client (never the expected signature or a secret).
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The AWS exception name for the HTTP layer's error table.
    public var awsErrorName: String {
        switch code {
        case .incompleteSignature: "IncompleteSignatureException"
        case .missingAuthenticationToken: "MissingAuthenticationTokenException"
        case .unrecognizedClient: "UnrecognizedClientException"
        case .unavailable: "DependencyTimeoutException"
        default: "InvalidSignatureException"
        }
    }

    /// The HTTP status AWS answers it with: 403 for a missing authentication token (AWS's common errors),
    /// 400 for the rest.
    public var httpStatus: Int {
        switch code {
        case .missingAuthenticationToken: 403
        case .unavailable: 500
        default: 400
        }
    }

    public var description: String { "SigV4Error.\(code): \(message)" }
}
