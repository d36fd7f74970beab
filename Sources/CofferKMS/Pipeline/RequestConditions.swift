/// An operation's condition keys (the AWS KMS Developer Guide, "AWS KMS condition keys"), by lower-cased
/// name, and the encryption context grants are checked against. The service adds the keys every request
/// has (`aws:PrincipalArn`, `aws:SourceIp`, `aws:CurrentTime`, `aws:SecureTransport`, `kms:CallerAccount`,
/// the key's `kms:KeySpec`, `kms:KeyUsage`, …).
public struct RequestConditions: Sendable, Equatable {
    /// Condition keys by lower-cased name, each with its values.
    public var keys: [String: [String]]
    /// The request's encryption context (grant constraints).
    public var encryptionContext: [String: String]

    /// Conditions.
    public init(keys: [String: [String]] = [:], encryptionContext: [String: String] = [:]) {
        self.keys = keys
        self.encryptionContext = encryptionContext
    }

    /// Condition keys two or more request values gave one name to (encryption context keys that differ
    /// only in case): a policy testing one cannot decide the request (``PolicyAuthorizer`` refuses it).
    public var ambiguousKeys: Set<String> = []

    /// Adds `kms:EncryptionContext:<key>` for each pair and `kms:EncryptionContextKeys`.
    mutating func add(context: StringPairs?) {
        guard let pairs = context?.pairs, !pairs.isEmpty else { return }
        for pair in pairs {
            let name = "kms:encryptioncontext:" + pair.key.lowercased()
            if keys[name] != nil { ambiguousKeys.insert(name) }
            keys[name] = [pair.value]
            encryptionContext[pair.key] = pair.value
        }
        keys["kms:encryptioncontextkeys"] = pairs.map(\.key)
    }

    /// Sets one single-valued key when the value is given.
    mutating func set(_ name: String, _ value: String?) {
        if let value { keys[name.lowercased()] = [value] }
    }

    /// Conditions of an encryption context and an algorithm (Encrypt, Decrypt, GenerateDataKey…); an
    /// omitted algorithm is SYMMETRIC_DEFAULT, as AWS supplies it.
    static func encryption(_ context: StringPairs?, algorithm: String? = nil) -> RequestConditions {
        var conditions = RequestConditions()
        conditions.add(context: context)
        conditions.set("kms:EncryptionAlgorithm", algorithm ?? "SYMMETRIC_DEFAULT")
        return conditions
    }
}
