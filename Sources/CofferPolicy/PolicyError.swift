/// Why a policy document is refused (MalformedPolicyDocumentException at the API): the one error type of
/// `CofferPolicy`. The message names the part of the document at fault, never a secret (policies hold
/// none).
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of fault.
    public enum Code: String, Sendable, Equatable {
        /// Not JSON, or JSON that is not a policy document.
        case malformed
        /// A member or value the policy grammar does not allow (an unknown element, an empty list, an
        /// unsupported version, a condition operator IAM does not define).
        case invalid
        /// Larger than the limits (``PolicyLimits``).
        case tooLarge
    }

    /// The code.
    public let code: Code
    /// What is wrong, for the caller.
    public let message: String

    /// An error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The limits a policy document must keep, as AWS KMS and IAM state them.
public enum PolicyLimits {
    /// A key policy document's largest size in bytes (AWS KMS: 32 KiB).
    public static let documentBytes = 32_768
    /// Statements in one document.
    public static let statements = 500
    /// Values in one list (actions, resources, principals, condition values).
    public static let listValues = 1_000
}
