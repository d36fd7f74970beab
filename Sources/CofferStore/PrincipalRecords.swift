/// A principal of an account that holds access keys (`coffer principals`): the account root, a user or a
/// role, and its identity policy. Public metadata only.
public struct PrincipalRecord: Hashable, Sendable {
    /// The principal's ARN (`arn:aws:iam::ACCOUNT:root`, `…:user/NAME`, `…:role/NAME`).
    public var arn: String
    /// The 12-digit account.
    public var account: String
    /// The user or role name (`root` for the account root).
    public var name: String
    /// `root`, `user` or `role`.
    public var kind: String
    /// The identity policy (IAM policy JSON), if any.
    public var policy: String?
    /// Seconds since 1970.
    public var creationDate: Int64

    /// A principal.
    public init(arn: String, account: String, name: String, kind: String, policy: String?, creationDate: Int64) {
        self.arn = arn
        self.account = account
        self.name = name
        self.kind = kind
        self.policy = policy
        self.creationDate = creationDate
    }
}

/// An access key of a principal: its id and the HSM-sealed token of its secret (the HMAC key
/// `"AWS4" + secret`, sealed under the domain key like a backing key). Never the secret itself.
public struct AccessKeyRecord: Hashable, Sendable {
    /// The access key id (`AKIA…`).
    public var accessKeyID: String
    /// The principal it signs as.
    public var principalARN: String
    /// The exported key token (DER) holding the secret.
    public var token: [UInt8]
    /// Seconds since 1970.
    public var creationDate: Int64

    /// An access key.
    public init(accessKeyID: String, principalARN: String, token: [UInt8], creationDate: Int64) {
        self.accessKeyID = accessKeyID
        self.principalARN = principalARN
        self.token = token
        self.creationDate = creationDate
    }
}
