import CofferPolicy
import Testing

/// The condition rows of the table: every operator, absent keys, IfExists, Null, the multi-valued
/// qualifiers, every condition key Coffer supplies, and grants.
extension PolicyEvaluationTests {
    static func cond(_ json: String) -> String { onlyFor(json) }

    static let conditions: [EvaluationCase] = [
        C(
            "StringEquals matches", operators,
            keyPolicy: cond(#"{"StringEquals":{"kms:encryptioncontext:tenant":"a"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "StringEquals is case-sensitive", operators,
            keyPolicy: cond(#"{"StringEquals":{"kms:EncryptionContext:tenant":"A"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .implicitDeny),
        C(
            "condition key names are case-insensitive", operators,
            keyPolicy: cond(#"{"StringEquals":{"KMS:ENCRYPTIONCONTEXT:TENANT":"a"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "StringEquals with a list matches any", operators,
            keyPolicy: cond(#"{"StringEquals":{"kms:EncryptionContext:tenant":["b","a"]}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "StringNotEquals with a list matches none", operators,
            keyPolicy: cond(#"{"StringNotEquals":{"kms:EncryptionContext:tenant":["b","c"]}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "StringNotEquals refuses a listed value", operators,
            keyPolicy: cond(#"{"StringNotEquals":{"kms:EncryptionContext:tenant":["b","a"]}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .implicitDeny),
        C(
            "StringEqualsIgnoreCase", operators,
            keyPolicy: cond(#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:tenant":"A"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "StringNotEqualsIgnoreCase", operators,
            keyPolicy: cond(#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:tenant":"A"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .implicitDeny),
        C(
            "StringLike with *", operators, keyPolicy: cond(#"{"StringLike":{"kms:EncryptionContext:tenant":"te*"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["team-7"]], .allow),
        C(
            "StringLike with ?", operators,
            keyPolicy: cond(#"{"StringLike":{"kms:EncryptionContext:tenant":"team-?"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["team-77"]], .implicitDeny),
        C(
            "StringNotLike", operators, keyPolicy: cond(#"{"StringNotLike":{"kms:EncryptionContext:tenant":"x*"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["team"]], .allow),
        C(
            "NumericLessThan", operators, keyPolicy: cond(#"{"NumericLessThan":{"kms:requestcount":10}}"#),
            keys: ["kms:requestcount": ["9"]], .allow),
        C(
            "NumericLessThan at the bound", operators,
            keyPolicy: cond(#"{"NumericLessThan":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["10"]], .implicitDeny),
        C(
            "NumericLessThanEquals at the bound", operators,
            keyPolicy: cond(#"{"NumericLessThanEquals":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["10"]],
            .allow),
        C(
            "NumericGreaterThan", operators, keyPolicy: cond(#"{"NumericGreaterThan":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["11"]], .allow),
        C(
            "NumericGreaterThanEquals", operators,
            keyPolicy: cond(#"{"NumericGreaterThanEquals":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["9"]], .implicitDeny),
        C(
            "NumericEquals", operators, keyPolicy: cond(#"{"NumericEquals":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["10.0"]], .allow),
        C(
            "NumericNotEquals", operators, keyPolicy: cond(#"{"NumericNotEquals":{"kms:requestcount":"10"}}"#),
            keys: ["kms:requestcount": ["10"]], .implicitDeny),
        C(
            "a request number that does not parse matches nothing", operators,
            keyPolicy: cond(#"{"NumericEquals":{"kms:requestcount":"10"}}"#), keys: ["kms:requestcount": ["ten"]],
            .implicitDeny),
        C(
            "DateLessThan with aws:CurrentTime", globalKey("aws:CurrentTime"),
            keyPolicy: cond(#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#),
            keys: ["aws:currenttime": ["2026-12-03T10:00:00Z"]], .allow),
        C(
            "DateGreaterThan with aws:CurrentTime", globalKey("aws:CurrentTime"),
            keyPolicy: cond(#"{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01"}}"#),
            keys: ["aws:currenttime": ["2026-12-03T10:00:00Z"]], .implicitDeny),
        C(
            "DateEquals with epoch seconds", operators,
            keyPolicy: cond(#"{"DateEquals":{"aws:CurrentTime":"1796292000"}}"#),
            keys: ["aws:currenttime": ["2026-12-03T10:00:00Z"]], .allow),
        C(
            "DateNotEquals", operators,
            keyPolicy: cond(#"{"DateNotEquals":{"aws:CurrentTime":"2026-12-03T10:00:00Z"}}"#),
            keys: ["aws:currenttime": ["2026-12-03T10:00:00Z"]], .implicitDeny),
        C(
            "DateLessThanEquals and DateGreaterThanEquals bracket", operators,
            keyPolicy: cond(
                #"{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-12-03"},"DateLessThanEquals":{"aws:CurrentTime":"2026-12-04"}}"#
            ), keys: ["aws:currenttime": ["2026-12-03T10:00:00Z"]], .allow),
        C(
            "Bool with aws:SecureTransport true", globalKey("aws:SecureTransport"),
            keyPolicy: cond(#"{"Bool":{"aws:SecureTransport":"true"}}"#), keys: ["aws:securetransport": ["true"]],
            .allow),
        C(
            "Bool with a JSON boolean", operators, keyPolicy: cond(#"{"Bool":{"aws:SecureTransport":true}}"#),
            keys: ["aws:securetransport": ["false"]], .implicitDeny),
        C(
            "deny over plain HTTP", globalKey("aws:SecureTransport"),
            keyPolicy: F.policy(
                F.statement(principal: #"{"AWS":"\#(F.alice)"}"#),
                F.statement("Deny", principal: #""*""#, condition: #"{"Bool":{"aws:SecureTransport":"false"}}"#)),
            keys: ["aws:securetransport": ["false"]], .explicitDeny),
        C(
            "BinaryEquals compares base64", operators, keyPolicy: cond(#"{"BinaryEquals":{"kms:blob":"QUJD"}}"#),
            keys: ["kms:blob": ["QUJD"]], .allow),
        C(
            "IpAddress within a CIDR", globalKey("aws:SourceIp"),
            keyPolicy: cond(#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#),
            keys: ["aws:sourceip": ["203.0.113.9"]],
            .allow),
        C(
            "IpAddress outside a CIDR", globalKey("aws:SourceIp"),
            keyPolicy: cond(#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#),
            keys: ["aws:sourceip": ["203.0.114.9"]],
            .implicitDeny),
        C(
            "NotIpAddress with IPv6", globalKey("aws:SourceIp"),
            keyPolicy: cond(#"{"NotIpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#), keys: ["aws:sourceip": ["::1"]],
            .allow),
        C(
            "IpAddress single address", operators, keyPolicy: cond(#"{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}"#),
            keys: ["aws:sourceip": ["127.0.0.1"]], .allow),
        C(
            "ArnLike on aws:PrincipalArn", globalKey("aws:PrincipalArn"),
            keyPolicy: F.policy(
                F.statement(
                    principal: #""*""#, condition: #"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/al*"}}"#)),
            keys: ["aws:principalarn": [F.alice]], .allow),
        C(
            "ArnLike does not cross ARN parts", operators,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#, condition: #"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#)
            ),
            keys: ["aws:principalarn": [F.alice]], .implicitDeny),
        C(
            "ArnEquals", operators,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#, condition: #"{"ArnEquals":{"aws:PrincipalArn":"\#(F.bob)"}}"#)),
            keys: ["aws:principalarn": [F.alice]], .implicitDeny),
        C(
            "ArnNotLike", operators,
            keyPolicy: F.policy(
                F.statement(
                    principal: #""*""#, condition: #"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/a*"}}"#)),
            keys: ["aws:principalarn": [F.alice]], .implicitDeny),
        C(
            "every condition of a statement must hold", operators,
            keyPolicy: cond(
                #"{"StringEquals":{"kms:EncryptionContext:tenant":"a","kms:CallerAccount":"111122223333"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["a"], "kms:calleraccount": ["444455556666"]], .implicitDeny),
        C(
            "an absent key: a positive operator is false", missing,
            keyPolicy: cond(#"{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}"#), .implicitDeny),
        C(
            "an absent key: a negated operator is true", missing,
            keyPolicy: cond(#"{"StringNotEquals":{"kms:EncryptionContext:tenant":"a"}}"#), .allow),
        C(
            "an absent key with IfExists is true", operators,
            keyPolicy: cond(#"{"StringEqualsIfExists":{"kms:EncryptionContext:tenant":"a"}}"#), .allow),
        C(
            "a present key with IfExists is compared", operators,
            keyPolicy: cond(#"{"StringEqualsIfExists":{"kms:EncryptionContext:tenant":"a"}}"#),
            keys: ["kms:encryptioncontext:tenant": ["b"]], .implicitDeny),
        C(
            "Null true: the key is absent", operators,
            keyPolicy: cond(#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#),
            .allow),
        C(
            "Null false: the key is present", operators,
            keyPolicy: cond(#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#),
            keys: ["kms:encryptioncontextkeys": ["tenant"]], .allow),
        C(
            "Null false with the key absent", operators,
            keyPolicy: cond(#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#), .implicitDeny),
    ]
}
