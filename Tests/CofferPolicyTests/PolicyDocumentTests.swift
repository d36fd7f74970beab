import CofferPolicy
import Foundation
import Testing

/// The policy grammar, strictly: what AWS refuses as MalformedPolicyDocumentException is a PolicyError.
@Suite struct PolicyDocumentTests {
    static let statement = #"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}"#

    @Test func aKeyPolicyParses() throws {
        let document = try PolicyDocument(
            json: #"{"Version":"2012-10-17","Id":"key-default-1","Statement":[\#(Self.statement)]}"#, kind: .keyPolicy)
        #expect(document.version == "2012-10-17" && document.id == "key-default-1")
        #expect(document.statements.count == 1 && document.statements[0].effect == .allow)
        #expect(document.statements[0].principals == .listed(aws: ["111122223333"], others: []))
        // A single statement object (not in a list) is a statement too.
        _ = try PolicyDocument(json: #"{"Statement":\#(Self.statement)}"#, kind: .keyPolicy)
    }

    @Test(arguments: [
        ("not JSON", "{"),
        ("not an object", "[]"),
        ("no Statement", #"{"Version":"2012-10-17"}"#),
        ("empty Statement", #"{"Statement":[]}"#),
        ("unknown top-level element", #"{"Statement":[\#(statement)],"Extra":1}"#),
        ("unsupported Version", #"{"Version":"2020-01-01","Statement":[\#(statement)]}"#),
        ("no Effect", #"{"Statement":[{"Principal":"*","Action":"kms:*","Resource":"*"}]}"#),
        (
            "Effect not Allow or Deny",
            #"{"Statement":[{"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#
        ),
        ("no Action", #"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#),
        (
            "Action and NotAction",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","NotAction":"b","Resource":"*"}]}"#
        ),
        ("no Resource", #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"}]}"#),
        ("no Principal in a key policy", #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#),
        (
            "NotPrincipal with Allow",
            #"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}"#
        ),
        (
            "a wildcard inside a principal ARN",
            #"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"kms:*","Resource":"*"}]}"#
        ),
        (
            "an unknown principal type",
            #"{"Statement":[{"Effect":"Allow","Principal":{"Users":"x"},"Action":"kms:*","Resource":"*"}]}"#
        ),
        (
            "an unknown condition operator",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringSortOf":{"a":"b"}}}]}"#
        ),
        (
            "NullIfExists",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}]}"#
        ),
        (
            "a condition value that is an object",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a":{}}}}]}"#
        ),
        (
            "a number that does not parse",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericEquals":{"k":"ten"}}}]}"#
        ),
        (
            "a date that does not parse",
            #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}]}"#
        ),
        (
            "an address that does not parse",
            #"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}"#
        ),
        (
            "an ARN pattern of five parts",
            #"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}}]}"#
        ),
        (
            "two set qualifiers",
            #"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:ForAllValues:StringLike":{"k":"a"}}}]}"#
        ),
        (
            "NotPrincipal \"*\"",
            #"{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"kms:*","Resource":"*"}]}"#
        ),
        ("an empty Action list", #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}]}"#),
        ("a duplicate element", #"{"Statement":[\#(statement)],"Statement":[\#(statement)]}"#),
    ])
    func malformedKeyPoliciesAreRefused(_ name: String, _ json: String) {
        #expect(throws: PolicyError.self, "\(name)") { try PolicyDocument(json: json, kind: .keyPolicy) }
    }

    @Test func anIdentityPolicyNamesNoPrincipal() throws {
        _ = try PolicyDocument(
            json: #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#, kind: .identityPolicy)
        #expect(throws: PolicyError.self) {
            try PolicyDocument(json: #"{"Statement":[\#(Self.statement)]}"#, kind: .identityPolicy)
        }
    }

    /// Each limit: at the limit accepted, one over refused.
    @Test func theLimitsHoldExactly() throws {
        let frame = #"{"Id":"","Statement":[\#(Self.statement)]}"#
        let fill = PolicyLimits.documentBytes - frame.utf8.count
        let atLimit = #"{"Id":"\#(String(repeating: "x", count: fill))","Statement":[\#(Self.statement)]}"#
        #expect(atLimit.utf8.count == PolicyLimits.documentBytes)
        _ = try PolicyDocument(json: atLimit, kind: .keyPolicy)
        #expect(throws: PolicyError.self) {
            try PolicyDocument(
                json: atLimit.replacingOccurrences(of: "\"Id\":\"", with: "\"Id\":\"x"), kind: .keyPolicy)
        }
        let small = #"{"Effect":"Allow","Principal":"*","Action":"a","Resource":"*"}"#
        for (count, ok) in [(PolicyLimits.statements, true), (PolicyLimits.statements + 1, false)] {
            let json = #"{"Statement":["# + Array(repeating: small, count: count).joined(separator: ",") + "]}"
            #expect(((try? PolicyDocument(json: json, kind: .keyPolicy)) != nil) == ok, "\(count) statements")
        }
        for (count, ok) in [(PolicyLimits.listValues, true), (PolicyLimits.listValues + 1, false)] {
            let actions = Array(repeating: #""kms:Encrypt""#, count: count).joined(separator: ",")
            let json =
                #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["# + actions + #"],"Resource":"*"}]}"#
            #expect(((try? PolicyDocument(json: json, kind: .keyPolicy)) != nil) == ok, "\(count) actions")
        }
    }
}

/// The parser byte by byte: every truncation of a valid policy is refused, and every single-byte change
/// either parses or is refused (never a crash).
@Suite struct PolicyDocumentBytewiseTests {
    static let policy = #"""
        {"Version":"2012-10-17","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"AWS":["111122223333"]},
        "Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":
        {"kms:EncryptionContext:tenant":["a*",true,3]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}
        """#

    @Test func everyTruncationIsRefused() throws {
        let bytes = Array(Self.policy.utf8)
        _ = try PolicyDocument(json: Self.policy, kind: .keyPolicy)
        for length in 0..<bytes.count {
            let text = String(decoding: bytes.prefix(length), as: UTF8.self)
            #expect(throws: PolicyError.self) { try PolicyDocument(json: text, kind: .keyPolicy) }
        }
    }

    @Test func everySingleByteChangeParsesOrIsRefused() {
        let bytes = Array(Self.policy.utf8)
        for index in bytes.indices {
            for replacement: UInt8 in [0x00, 0x22, 0x2a, 0x5b, 0x7d, 0xff] {
                var changed = bytes
                changed[index] = replacement
                _ = try? PolicyDocument(json: String(decoding: changed, as: UTF8.self), kind: .keyPolicy)
            }
        }
    }
}
