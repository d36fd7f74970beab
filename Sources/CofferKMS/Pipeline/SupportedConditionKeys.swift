import CofferPolicy

/// The condition keys Coffer supplies (docs/access-control.md). A policy that tests any other key, or
/// uses a policy variable (`${aws:username}`), is refused when it is set: a key Coffer never supplies
/// would make a Deny with a positive operator silently never apply.
public enum SupportedConditionKeys {
    /// Lower-cased names.
    public static let names: Set<String> = [
        "kms:encryptioncontextkeys", "kms:encryptionalgorithm", "kms:signingalgorithm", "kms:messagetype",
        "kms:macalgorithm", "kms:keyagreementalgorithm", "kms:datakeypairspec", "kms:keyspec", "kms:keyusage",
        "kms:keyorigin", "kms:multiregion", "kms:multiregionkeytype", "kms:calleraccount", "kms:requestalias",
        "kms:resourcealiases", "kms:bypasspolicylockoutsafetycheck", "kms:grantoperations",
        "kms:granteeprincipal", "kms:retiringprincipal", "kms:grantisforawsresource", "kms:grantconstrainttype",
        "kms:viaservice", "aws:principalarn", "aws:sourceip", "aws:currenttime", "aws:securetransport",
    ]
    /// `kms:EncryptionContext:<key>`, for any key.
    public static let contextPrefix = "kms:encryptioncontext:"

    /// Why `document` cannot be enforced as written, or nil.
    public static func problem(in document: PolicyDocument) -> String? {
        for statement in document.statements {
            for condition in statement.conditions {
                guard names.contains(condition.key) || condition.key.hasPrefix(contextPrefix) else {
                    return "Coffer does not supply the condition key \(condition.key)"
                }
                if condition.values.contains(where: { $0.contains("${") }) {
                    return "Coffer does not expand policy variables (\(condition.key))"
                }
            }
            for pattern in statement.resources + statement.actions where pattern.contains("${") {
                return "Coffer does not expand policy variables (\(pattern))"
            }
        }
        return nil
    }
}
