import CofferJSON
import CofferStore
import CofferWire

/// One operation of the AWS KMS API: its name, its typed input and output (generated from botocore's
/// model), the `kms:` action it is authorized as, what it needs of the key it names, and its work.
/// Everything every operation shares (decoding and validation, resolving and checking the key,
/// authorization, dry runs, encoding, audit) is done once by ``KMSService/perform(_:body:context:)``;
/// adding an operation is adding one such type to ``KMSRegistry``.
public protocol KMSOperation: Sendable {
    /// The request shape.
    associatedtype Input: KMSShape
    /// The response shape.
    associatedtype Output: KMSShape

    /// The operation's name (`X-Amz-Target: TrentService.<name>`).
    static var name: String { get }
    /// The action a policy must allow (`kms:Encrypt`).
    static var action: String { get }
    /// What the key the request names must be; ``KeyRequirement/none`` when the operation names none.
    static var requirement: KeyRequirement { get }
    /// Checks of the input beyond the model's constraints that AWS makes before it looks at any key.
    static func validate(_ input: Input) throws(KMSError)
    /// The key the request names, when ``requirement`` is not `.none`.
    static func key(in input: Input) -> KeyReference?
    /// The request's own condition keys (its encryption context, algorithm, key spec, …) for policies.
    static func conditions(_ input: Input) -> RequestConditions
    /// Whether policies decide the call (true but for RetireGrant, which AWS lets the grant's retiring
    /// principal, its grantee and its account do whatever any policy says; the operation checks that).
    static var authorizedByPolicy: Bool { get }
    /// The resource an operation that names no key is authorized on (an alias's ARN); nil for `*`.
    static func resource(in input: Input, scope: KeyScope) -> String?
    /// The work, once the key is resolved, checked and the caller authorized.
    static func run(_ input: Input, _ call: OperationCall) async throws(KMSError) -> Output
}

extension KMSOperation {
    public static func validate(_ input: Input) throws(KMSError) {}

    public static func key(in input: Input) -> KeyReference? { nil }

    public static func conditions(_ input: Input) -> RequestConditions { RequestConditions() }

    public static var authorizedByPolicy: Bool { true }

    public static func resource(in input: Input, scope: KeyScope) -> String? { nil }
}

/// How a request names its key.
public enum KeyReference: Sendable, Equatable {
    /// A key id, key ARN, alias name or alias ARN.
    case named(String)
    /// The key a ciphertext blob was made under; when the request also names a key (`KeyId`), the two
    /// must be the same (IncorrectKeyException).
    case ciphertext([UInt8], named: String?)
}

/// What an operation needs of its key, as AWS's key-state table and usage rules say.
public enum KeyRequirement: Sendable, Equatable {
    /// The operation names no key (ListKeys, CreateKey, GenerateRandom, ListAliases without KeyId).
    case none
    /// Any state. `aliases`: whether an alias may name the key.
    case any(aliases: Bool)
    /// Not pending deletion (KMSInvalidStateException); named by key id or ARN only.
    case changeable
    /// Enabled (DisabledException, KMSInvalidStateException) and, when given, of this key usage
    /// (InvalidKeyUsageException).
    case usable(KeyUsageType?, aliases: Bool)
    /// Pending deletion (CancelKeyDeletion).
    case pendingDeletion
}

/// What an operation's work is given: the service, the request context and its resolved key.
public struct OperationCall: Sendable {
    /// The service (store and HSM access).
    public let kms: KMSService
    /// The request context.
    public let context: RequestContext
    /// The key the request named, resolved and checked (nil for operations that name none).
    public let key: KeyRecord?
    /// The authorization decision of the request's key (nil for operations not authorized by policy).
    public var decision: Decision? = nil
    /// Whether the request asked for a dry run: ``hsm(_:)`` then stops the operation with
    /// DryRunOperationException where its cryptographic work would begin, after every check.
    public let dryRun: Bool

    /// Runs `command` on an HSM, or, on a dry run, stops here: the request would have succeeded.
    /// `invalidArgument` is what the HSM's `invalidArgument` means for this command, when it can happen.
    public func hsm(_ command: SessionCommand, invalidArgument: KMSError? = nil) async throws(KMSError) -> SessionResult
    {
        try proceed()
        return try await kms.hsmCall(command, invalidArgument: invalidArgument)
    }

    /// As ``hsm(_:)``, but a failure the HSM answers is returned as `.failure` for the operation to map.
    public func hsmReturningFailures(_ command: SessionCommand) async throws(KMSError) -> SessionResult {
        try proceed()
        return try await kms.hsmCall(command, returningFailures: true)
    }

    /// Where an operation whose work is a store change begins it: on a dry run, stops here
    /// (DryRunOperationException), after every check.
    public func proceed() throws(KMSError) {
        guard !dryRun else {
            throw KMSError(.dryRun, "The request would have succeeded, but the DryRun option is set.")
        }
    }

    /// The resolved key; only operations whose requirement is not `.none` call this.
    public func requiredKey() throws(KMSError) -> KeyRecord {
        guard let key else { throw KMSError(.internal, "the operation has no resolved key") }
        return key
    }

    /// Resolves, authorizes for `action` and checks a second key (ReEncrypt's destination, the key an
    /// alias points at now).
    public func otherKey(
        _ reference: KeyReference, _ requirement: KeyRequirement, action: String,
        conditions: RequestConditions = RequestConditions()
    ) async throws(KMSError) -> KeyRecord {
        try await kms.otherKey(reference, requirement, action: action, conditions: conditions, in: context)
    }

    /// The ARN of a key of this request's scope.
    public func arn(_ keyID: String) -> String { KMSService.keyARN(keyID, in: context.scope) }
}

/// The ValidationException AWS answers for a required member that is absent.
func missingMember(_ path: String) -> KMSError {
    KMSError(
        .validation,
        "1 validation error detected: Value null at '\(path)' failed to satisfy constraint: Member must not be null")
}

/// A response with no members (EnableKey, DisableKey, …): AWS answers an empty body.
public struct NoOutput: KMSShape {
    /// The empty response.
    public init() {}

    public init(reading object: JSONObject, at path: String, with r: ShapeReader) throws(KMSError) {}

    public func write(to w: inout JSONWriter) {}
}
