import CofferPolicy
import Testing

/// Principals, a key and policy builders for the evaluation table.
enum Fixture {
    static let account = "111122223333"
    static let other = "444455556666"
    static let root = "arn:aws:iam::111122223333:root"
    static let alice = "arn:aws:iam::111122223333:user/alice"
    static let bob = "arn:aws:iam::111122223333:user/bob"
    static let role = "arn:aws:iam::111122223333:role/app"
    static let session = "arn:aws:sts::111122223333:assumed-role/app/session-1"
    static let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let otherKey = "arn:aws:kms:us-east-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab"

    /// A key policy of these statements.
    static func policy(_ statements: String...) -> String {
        #"{"Version":"2012-10-17","Statement":["# + statements.joined(separator: ",") + "]}"
    }

    /// One statement; `principal` and `condition` are JSON (principal nil: an identity policy statement).
    static func statement(
        _ effect: String = "Allow", principal: String? = #"{"AWS":"arn:aws:iam::111122223333:root"}"#,
        action: String = #""kms:*""#, resource: String = #""*""#, condition: String? = nil, sid: String? = nil,
        principalElement: String = "Principal", actionElement: String = "Action", resourceElement: String = "Resource"
    ) -> String {
        var members = [#""Effect":"\#(effect)""#]
        if let sid { members.append(#""Sid":"\#(sid)""#) }
        if let principal { members.append(#""\#(principalElement)":\#(principal)"#) }
        members.append(#""\#(actionElement)":\#(action)"#)
        members.append(#""\#(resourceElement)":\#(resource)"#)
        if let condition { members.append(#""Condition":\#(condition)"#) }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The default key policy: the account root may do everything (delegating to IAM).
    static let defaultKeyPolicy = policy(statement(sid: "Enable IAM User Permissions"))

    /// An identity policy of these statements (no principals).
    static func identity(_ statements: String...) -> String {
        #"{"Version":"2012-10-17","Statement":["# + statements.joined(separator: ",") + "]}"
    }

    static func allowAll(_ action: String = #""kms:*""#, condition: String? = nil) -> String {
        statement(principal: nil, action: action, condition: condition)
    }
}

/// One row of the table: a request, the policies, and AWS's answer.
struct EvaluationCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// The section of AWS's documentation whose rule decides the expected outcome.
    let source: String
    var principal = Fixture.alice
    var action = "kms:Encrypt"
    var resource = Fixture.key
    var keyPolicy: String? = Fixture.defaultKeyPolicy
    var identity: [String] = []
    var grants: [GrantRule] = []
    var keys: [String: [String]] = [:]
    var context: [String: String] = [:]
    let expected: Expected

    enum Expected: Sendable { case allow, explicitDeny, implicitDeny }

    var testDescription: String { name }

    init(
        _ name: String, _ source: String, principal: String = Fixture.alice, action: String = "kms:Encrypt",
        resource: String = Fixture.key, keyPolicy: String? = Fixture.defaultKeyPolicy, identity: [String] = [],
        grants: [GrantRule] = [], keys: [String: [String]] = [:], context: [String: String] = [:],
        _ expected: Expected
    ) {
        self.name = name
        self.source = source
        self.principal = principal
        self.action = action
        self.resource = resource
        self.keyPolicy = keyPolicy
        self.identity = identity
        self.grants = grants
        self.keys = keys
        self.context = context
        self.expected = expected
    }
}
