import CofferPolicy
import Testing

/// AWS's authorization rules, one row per rule: each row names the section of AWS's documentation its
/// expected outcome is written from (IAM User Guide "Policy evaluation logic", "IAM JSON policy elements",
/// "Single-valued vs. multivalued context keys", "AWS global condition context keys"; the AWS KMS
/// Developer Guide "Determining access to a KMS key", "Default key policy", "Grants in AWS KMS" and
/// "AWS KMS condition keys").
@Suite struct PolicyEvaluationTests {
    typealias F = Fixture
    typealias C = EvaluationCase

    static let eval = "IAM User Guide, Policy evaluation logic"
    static let access = "KMS Developer Guide, Determining access to a KMS key"
    static let defaults = "KMS Developer Guide, Default key policy (allows the account, enables IAM policies)"
    static let principal = "IAM User Guide, IAM JSON policy elements: Principal"
    static let notPrincipal = "IAM User Guide, IAM JSON policy elements: NotPrincipal"
    static let action = "IAM User Guide, IAM JSON policy elements: Action"
    static let notAction = "IAM User Guide, IAM JSON policy elements: NotAction"
    static let resource = "IAM User Guide, IAM JSON policy elements: Resource and NotResource"
    static let operators = "IAM User Guide, IAM JSON policy elements: Condition operators"
    static let missing = "IAM User Guide, Condition element: keys absent from the request context"
    static let multi = "IAM User Guide, Single-valued vs. multivalued context keys"
    static let grants = "KMS Developer Guide, Grants in AWS KMS: grant constraints"
    static func kmsKey(_ name: String) -> String { "KMS Developer Guide, AWS KMS condition keys: \(name)" }
    static func globalKey(_ name: String) -> String { "IAM User Guide, AWS global condition context keys: \(name)" }

    static func onlyFor(_ condition: String, action: String = #""kms:*""#) -> String {
        F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: action, condition: condition))
    }

    static let cases: [EvaluationCase] = basics + principals + actions + conditions + keysAndMultiValues + grantsCases

    static let basics: [EvaluationCase] = [
        C("root allowed by the default key policy", defaults, principal: F.root, .allow),
        C("user without identity policy: default policy delegates, nothing allows", defaults, .implicitDeny),
        C("user with identity policy allowing kms:*", defaults, identity: [F.identity(F.allowAll())], .allow),
        C(
            "user with identity policy allowing another action only", defaults,
            identity: [F.identity(F.allowAll(#""kms:Decrypt""#))], .implicitDeny),
        C(
            "identity allow without key policy delegation", access,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.bob)"}"#)),
            identity: [F.identity(F.allowAll())], .implicitDeny),
        C(
            "key policy naming the user allows without IAM", access,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#)), .allow),
        C(
            "key policy deny for the user wins over identity allow", eval,
            keyPolicy: F.policy(
                F.statement(), F.statement("Deny", principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:Encrypt""#)),
            identity: [F.identity(F.allowAll())], .explicitDeny),
        C(
            "identity deny wins over key policy allow", eval,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#)),
            identity: [F.identity(F.statement("Deny", principal: nil, action: #""kms:Encrypt""#))], .explicitDeny),
        C(
            "deny naming the account applies to its users", eval,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#), F.statement("Deny")),
            .explicitDeny),
        C(
            "deny naming the account applies to the root", eval, principal: F.root,
            keyPolicy: F.policy(F.statement(), F.statement("Deny", action: #""kms:Encrypt""#)), .explicitDeny),
        C(
            "root locked out by a key policy that does not name it", access, principal: F.root,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#)), .implicitDeny),
        C(
            "no key: root may", access, principal: F.root, action: "kms:CreateKey", resource: "*", keyPolicy: nil,
            .allow),
        C(
            "no key: a user needs an identity policy", access, action: "kms:CreateKey", resource: "*", keyPolicy: nil,
            .implicitDeny),
        C(
            "no key: identity policy allows", access, action: "kms:ListKeys", resource: "*", keyPolicy: nil,
            identity: [F.identity(F.allowAll(#""kms:List*""#))], .allow),
        C(
            "no key: identity deny wins even for an allowed action", eval, action: "kms:ListKeys", resource: "*",
            keyPolicy: nil,
            identity: [
                F.identity(F.allowAll()), F.identity(F.statement("Deny", principal: nil, action: #""kms:ListKeys""#)),
            ], .explicitDeny),
        C(
            "a deny that does not match the action does not apply", eval,
            keyPolicy: F.policy(F.statement(), F.statement("Deny", action: #""kms:Decrypt""#)),
            identity: [F.identity(F.allowAll())], .allow),
    ]

    static let principals: [EvaluationCase] = [
        C("principal \"*\" allows anyone", principal, keyPolicy: F.policy(F.statement(principal: #""*""#)), .allow),
        C(
            "principal AWS \"*\" allows anyone", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"*"}"#)), .allow),
        C(
            "principal by account id delegates to IAM", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"111122223333"}"#)),
            identity: [F.identity(F.allowAll())], .allow),
        C(
            "principal by account id, no identity policy", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"111122223333"}"#)), .implicitDeny),
        C(
            "principal list naming the user among others", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":["\#(F.bob)","\#(F.alice)"]}"#)), .allow),
        C(
            "principal naming another user", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.bob)"}"#)), .implicitDeny),
        C(
            "principal of another account", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"arn:aws:iam::444455556666:root"}"#)),
            identity: [F.identity(F.allowAll())], .implicitDeny),
        C(
            "a role's session is the role", principal, principal: F.session,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.role)"}"#)), .allow),
        C(
            "a service principal never matches a caller", principal,
            keyPolicy: F.policy(F.statement(principal: #"{"Service":"logs.amazonaws.com"}"#)), .implicitDeny),
        C(
            "NotPrincipal deny applies to everyone not named", notPrincipal,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement("Deny", principal: #"{"AWS":"\#(F.bob)"}"#, principalElement: "NotPrincipal")),
            .explicitDeny),
        C(
            "NotPrincipal naming the user without its account still denies it", notPrincipal,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement("Deny", principal: #"{"AWS":"\#(F.alice)"}"#, principalElement: "NotPrincipal")),
            .explicitDeny),
        C(
            "NotPrincipal naming the user and its account spares it", notPrincipal,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement(
                    "Deny", principal: #"{"AWS":["\#(F.alice)","\#(F.root)"]}"#, principalElement: "NotPrincipal")),
            .allow),
        C(
            "NotPrincipal naming a role and its account still denies the session", notPrincipal, principal: F.session,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement(
                    "Deny", principal: #"{"AWS":["\#(F.role)","\#(F.root)"]}"#, principalElement: "NotPrincipal")),
            .explicitDeny),
        C(
            "NotPrincipal naming the account spares only the root", notPrincipal,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement("Deny", principal: #"{"AWS":"\#(F.root)"}"#, principalElement: "NotPrincipal")),
            .explicitDeny),
        C(
            "NotPrincipal naming the account spares the root", notPrincipal, principal: F.root,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement("Deny", principal: #"{"AWS":"\#(F.root)"}"#, principalElement: "NotPrincipal")), .allow),
    ]

    static let actions: [EvaluationCase] = [
        C(
            "kms:* matches every KMS action", action, action: "kms:ScheduleKeyDeletion",
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#)), .allow),
        C(
            "a prefix wildcard", action, action: "kms:GenerateDataKeyWithoutPlaintext",
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:GenerateDataKey*""#)),
            .allow),
        C(
            "a prefix wildcard that does not match", action, action: "kms:Decrypt",
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:GenerateDataKey*""#)),
            .implicitDeny),
        C(
            "actions are case-insensitive", action,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #""KMS:encrypt""#)), .allow),
        C(
            "a list of actions", action, action: "kms:Decrypt",
            keyPolicy: F.policy(
                F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #"["kms:Encrypt","kms:Decrypt"]"#)), .allow),
        C(
            "\"*\" matches any action", action,
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #""*""#)), .allow),
        C(
            "? matches one character", action, action: "kms:Sign",
            keyPolicy: F.policy(F.statement(principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:Si?n""#)), .allow),
        C(
            "NotAction allows what it does not list", notAction, action: "kms:Encrypt",
            keyPolicy: F.policy(
                F.statement(
                    principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:ScheduleKeyDeletion""#,
                    actionElement: "NotAction")), .allow),
        C(
            "NotAction does not allow what it lists", notAction, action: "kms:ScheduleKeyDeletion",
            keyPolicy: F.policy(
                F.statement(
                    principal: #"{"AWS":"\#(F.alice)"}"#, action: #""kms:ScheduleKeyDeletion""#,
                    actionElement: "NotAction")), .implicitDeny),
        C(
            "Deny with NotAction denies everything else", notAction, action: "kms:Decrypt",
            keyPolicy: F.policy(
                F.statement(principal: #""*""#),
                F.statement("Deny", principal: #""*""#, action: #""kms:Encrypt""#, actionElement: "NotAction")),
            .explicitDeny),
        C(
            "identity policy Resource naming the key", resource, keyPolicy: F.defaultKeyPolicy,
            identity: [F.identity(F.statement(principal: nil, resource: #""\#(F.key)""#))], .allow),
        C(
            "identity policy Resource naming another key", resource,
            identity: [F.identity(F.statement(principal: nil, resource: #""\#(F.otherKey)""#))], .implicitDeny),
        C(
            "identity policy Resource with a wildcard", resource,
            identity: [
                F.identity(F.statement(principal: nil, resource: #""arn:aws:kms:us-east-1:111122223333:key/*""#))
            ],
            .allow),
        C(
            "identity policy Resource of another region", resource,
            identity: [
                F.identity(F.statement(principal: nil, resource: #""arn:aws:kms:eu-west-1:111122223333:key/*""#))
            ],
            .implicitDeny),
        C(
            "NotResource excludes the key", resource,
            identity: [
                F.identity(F.statement(principal: nil, resource: #""\#(F.key)""#, resourceElement: "NotResource"))
            ], .implicitDeny),
        C(
            "NotResource covers other keys", resource,
            identity: [
                F.identity(F.statement(principal: nil, resource: #""\#(F.otherKey)""#, resourceElement: "NotResource"))
            ], .allow),
    ]
}
