/// The one error type of `CofferKMS`: an AWS KMS exception name and a message for the caller.
public struct KMSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The exception, named as the AWS KMS API names it (botocore's model).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The AWS exception name, e.g. `NotFoundException`.
        public let awsName: String
        /// The HTTP status AWS answers it with: 500 for its internal errors, 412 for a dry run, 400 else.
        public let httpStatus: Int
        private init(_ awsName: String, status: Int = 400) {
            self.awsName = awsName
            self.httpStatus = status
        }

        public static let notFound = Code("NotFoundException")
        public static let disabled = Code("DisabledException")
        public static let invalidState = Code("KMSInvalidStateException")
        public static let invalidCiphertext = Code("InvalidCiphertextException")
        public static let incorrectKey = Code("IncorrectKeyException")
        public static let validation = Code("ValidationException")
        public static let invalidKeyUsage = Code("InvalidKeyUsageException")
        public static let invalidSignature = Code("KMSInvalidSignatureException")
        public static let invalidMac = Code("KMSInvalidMacException")
        public static let incorrectKeyMaterial = Code("IncorrectKeyMaterialException")
        public static let expiredImportToken = Code("ExpiredImportTokenException")
        public static let invalidImportToken = Code("InvalidImportTokenException")
        public static let alreadyExists = Code("AlreadyExistsException")
        public static let invalidAliasName = Code("InvalidAliasNameException")
        public static let invalidArn = Code("InvalidArnException")
        public static let invalidMarker = Code("InvalidMarkerException")
        public static let tag = Code("TagException")
        public static let malformedPolicy = Code("MalformedPolicyDocumentException")
        public static let unsupportedOperation = Code("UnsupportedOperationException")
        public static let dependencyTimeout = Code("DependencyTimeoutException", status: 500)
        public static let keyUnavailable = Code("KeyUnavailableException", status: 500)
        public static let dryRun = Code("DryRunOperationException", status: 412)
        public static let notAuthorized = Code("NotAuthorizedException")
        public static let accessDenied = Code("AccessDeniedException")
        public static let limitExceeded = Code("LimitExceededException")
        public static let invalidGrantToken = Code("InvalidGrantTokenException")
        public static let invalidGrantID = Code("InvalidGrantIdException")
        public static let serialization = Code("SerializationException")
        public static let unknownOperation = Code("UnknownOperationException")
        public static let `internal` = Code("KMSInternalException", status: 500)

        public var description: String { awsName }
    }

    /// The exception.
    public let code: Code
    /// What the caller is told (ids and outcomes, never key material or plaintext).
    public let message: String
    /// What the server's log is told and the caller is not: why a dependency failed (the store's
    /// diagnostic). Never a secret, a plaintext or a ciphertext; not part of equality.
    package let cause: String?

    /// Builds an error; `cause`, for the server's log, says why a dependency failed.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The same exception with the same message, whatever the logged cause.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.message == rhs.message }
    /// Hashes what ``==`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    public var description: String { "\(code.awsName): \(message)" }
}
