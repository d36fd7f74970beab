/// A grant on a key (CreateGrant): who may use the key for which operations, under which encryption
/// context constraints, and who may retire it. Public metadata only.
public struct GrantRecord: Hashable, Sendable {
    /// The key's account and region.
    public var scope: KeyScope
    /// The key.
    public var keyID: String
    /// The grant id (64 hex digits).
    public var grantID: String
    /// The grant's name (CreateGrant's idempotency token), if given.
    public var name: String?
    /// The grantee principal ARN.
    public var grantee: String
    /// The retiring principal ARN, if given.
    public var retiringPrincipal: String?
    /// The principal that created the grant.
    public var issuer: String
    /// The operations it allows (AWS's GrantOperation names).
    public var operations: [String]
    /// `EncryptionContextEquals`, as ordered pairs.
    public var contextEquals: [[String]]?
    /// `EncryptionContextSubset`, as ordered pairs.
    public var contextSubset: [[String]]?
    /// Seconds since 1970.
    public var creationDate: Int64

    /// A grant.
    public init(
        scope: KeyScope, keyID: String, grantID: String, name: String?, grantee: String, retiringPrincipal: String?,
        issuer: String, operations: [String], contextEquals: [[String]]?, contextSubset: [[String]]?,
        creationDate: Int64
    ) {
        self.scope = scope
        self.keyID = keyID
        self.grantID = grantID
        self.name = name
        self.grantee = grantee
        self.retiringPrincipal = retiringPrincipal
        self.issuer = issuer
        self.operations = operations
        self.contextEquals = contextEquals
        self.contextSubset = contextSubset
        self.creationDate = creationDate
    }
}
