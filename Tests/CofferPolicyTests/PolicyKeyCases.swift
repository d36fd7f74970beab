import CofferPolicy
import Testing

/// Rows for the multi-valued qualifiers, each condition key, and grants.
extension PolicyEvaluationTests {
    static let keysAndMultiValues: [EvaluationCase] = [
        C(
            "ForAnyValue: one request value matches", multi,
            keyPolicy: cond(#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose", "tenant"]], .allow),
        C(
            "ForAnyValue: none matches", multi,
            keyPolicy: cond(#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose"]], .implicitDeny),
        C(
            "ForAnyValue with an absent key is false", multi,
            keyPolicy: cond(#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#), .implicitDeny),
        C(
            "ForAllValues: every request value is listed", multi,
            keyPolicy: cond(#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["tenant","purpose"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose", "tenant"]], .allow),
        C(
            "ForAllValues: one request value is not listed", multi,
            keyPolicy: cond(#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose", "tenant"]], .implicitDeny),
        C(
            "ForAllValues with an absent key is true", multi,
            keyPolicy: cond(#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#), .allow),
        C(
            "ForAllValues with StringLike", multi,
            keyPolicy: cond(#"{"ForAllValues:StringLike":{"kms:EncryptionContextKeys":["app-*"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["app-a", "app-b"]], .allow),
        C(
            "ForAnyValue with a negated operator: some value unlisted", multi,
            keyPolicy: cond(#"{"ForAnyValue:StringNotEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose", "tenant"]], .allow),
        C(
            "ForAllValues with a negated operator: a listed value present", multi,
            keyPolicy: cond(#"{"ForAllValues:StringNotEquals":{"kms:EncryptionContextKeys":["tenant"]}}"#),
            keys: ["kms:encryptioncontextkeys": ["purpose", "tenant"]], .implicitDeny),
        C(
            "kms:EncryptionContext:tenant = a (the e2e policy)", kmsKey("kms:EncryptionContext:context-key"),
            action: "kms:Encrypt",
            keyPolicy: onlyFor(#"{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}"#, action: #""kms:Encrypt""#),
            keys: ["kms:encryptioncontext:tenant": ["a"]], .allow),
        C(
            "kms:CallerAccount", kmsKey("kms:CallerAccount"), principal: F.bob,
            keyPolicy: F.policy(
                F.statement(principal: #""*""#, condition: #"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#)),
            keys: ["kms:calleraccount": ["111122223333"]], .allow),
        C(
            "kms:ViaService absent for direct calls", kmsKey("kms:ViaService"),
            keyPolicy: cond(#"{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}"#), .implicitDeny),
        C(
            "kms:GrantOperations", kmsKey("kms:GrantOperations"), action: "kms:CreateGrant",
            keyPolicy: cond(#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}"#),
            keys: ["kms:grantoperations": ["Decrypt"]], .allow),
        C(
            "kms:GrantOperations beyond the allowed", kmsKey("kms:GrantOperations"), action: "kms:CreateGrant",
            keyPolicy: cond(#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt"]}}"#),
            keys: ["kms:grantoperations": ["Decrypt", "ReEncryptFrom"]], .implicitDeny),
        C(
            "kms:GrantIsForAWSResource", kmsKey("kms:GrantIsForAWSResource"), action: "kms:CreateGrant",
            keyPolicy: cond(#"{"Bool":{"kms:GrantIsForAWSResource":"true"}}"#),
            keys: ["kms:grantisforawsresource": ["false"]], .implicitDeny),
        C(
            "kms:KeySpec", kmsKey("kms:KeySpec"), action: "kms:CreateKey", resource: "*", keyPolicy: nil,
            identity: [F.identity(F.allowAll(condition: #"{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}"#))],
            keys: ["kms:keyspec": ["SYMMETRIC_DEFAULT"]], .allow),
        C(
            "kms:KeySpec refuses another spec", kmsKey("kms:KeySpec"), action: "kms:CreateKey", resource: "*",
            keyPolicy: nil,
            identity: [F.identity(F.allowAll(condition: #"{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}"#))],
            keys: ["kms:keyspec": ["RSA_2048"]], .implicitDeny),
        C(
            "kms:KeyUsage", kmsKey("kms:KeyUsage"),
            keyPolicy: cond(#"{"StringEquals":{"kms:KeyUsage":"ENCRYPT_DECRYPT"}}"#),
            keys: ["kms:keyusage": ["ENCRYPT_DECRYPT"]], .allow),
        C(
            "kms:EncryptionAlgorithm", kmsKey("kms:EncryptionAlgorithm"),
            keyPolicy: cond(#"{"StringEquals":{"kms:EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}"#),
            keys: ["kms:encryptionalgorithm": ["RSAES_OAEP_SHA_1"]], .implicitDeny),
        C(
            "kms:SigningAlgorithm", kmsKey("kms:SigningAlgorithm"), action: "kms:Sign",
            keyPolicy: cond(#"{"StringLike":{"kms:SigningAlgorithm":"ECDSA_*"}}"#),
            keys: ["kms:signingalgorithm": ["ECDSA_SHA_256"]], .allow),
        C(
            "kms:MacAlgorithm", kmsKey("kms:MacAlgorithm"), action: "kms:GenerateMac",
            keyPolicy: cond(#"{"StringEquals":{"kms:MacAlgorithm":"HMAC_SHA_512"}}"#),
            keys: ["kms:macalgorithm": ["HMAC_SHA_256"]], .implicitDeny),
        C(
            "kms:RequestAlias", kmsKey("kms:RequestAlias"),
            keyPolicy: cond(#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#),
            keys: ["kms:requestalias": ["alias/app"]], .allow),
        C(
            "kms:RequestAlias absent when the key id is used", kmsKey("kms:RequestAlias"),
            keyPolicy: cond(#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#), .implicitDeny),
        C(
            "kms:ResourceAliases", kmsKey("kms:ResourceAliases"),
            keyPolicy: cond(#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/app"}}"#),
            keys: ["kms:resourcealiases": ["alias/other", "alias/app"]], .allow),
        C(
            "aws:PrincipalArn in an identity condition", globalKey("aws:PrincipalArn"),
            identity: [F.identity(F.allowAll(condition: #"{"StringEquals":{"aws:PrincipalArn":"\#(F.alice)"}}"#))],
            keys: ["aws:principalarn": [F.alice]], .allow),
    ]

    static let grantsCases: [EvaluationCase] = [
        C(
            "a grant allows its grantee its operation", grants, action: "kms:Decrypt", keyPolicy: F.defaultKeyPolicy,
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"])], .allow),
        C(
            "a grant does not allow another operation", grants, action: "kms:Encrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"])], .implicitDeny),
        C(
            "a grant does not allow another principal", grants, principal: F.bob, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"])], .implicitDeny),
        C(
            "EncryptionContextEquals met", grants, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"], contextEquals: ["tenant": "a"])],
            context: ["tenant": "a"], .allow),
        C(
            "EncryptionContextEquals with an extra pair", grants, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"], contextEquals: ["tenant": "a"])],
            context: ["tenant": "a", "x": "y"], .implicitDeny),
        C(
            "EncryptionContextSubset with an extra pair", grants, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"], contextSubset: ["tenant": "a"])],
            context: ["tenant": "a", "x": "y"], .allow),
        C(
            "EncryptionContextSubset missing its pair", grants, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"], contextSubset: ["tenant": "a"])],
            context: ["x": "y"], .implicitDeny),
        C(
            "a key policy deny beats a grant", eval, action: "kms:Decrypt",
            keyPolicy: F.policy(F.statement(), F.statement("Deny", principal: #"{"AWS":"\#(F.alice)"}"#)),
            grants: [GrantRule(id: "g1", grantee: F.alice, operations: ["Decrypt"])], .explicitDeny),
        C(
            "a grant to a role covers its sessions", grants, principal: F.session, action: "kms:Decrypt",
            grants: [GrantRule(id: "g1", grantee: F.role, operations: ["Decrypt"])], .allow),
    ]

    @Test(arguments: cases)
    func evaluatesAsAWSDocuments(_ row: EvaluationCase) throws {
        let keyPolicy = try row.keyPolicy.map { try PolicyDocument(json: $0, kind: .keyPolicy) }
        let identity = try row.identity.map { try PolicyDocument(json: $0, kind: .identityPolicy) }
        let request = AuthorizationRequest(
            action: row.action, principal: row.principal, account: Fixture.account, resource: row.resource,
            conditionKeys: row.keys, encryptionContext: row.context)
        let outcome = PolicyEvaluator.evaluate(
            request, keyPolicy: keyPolicy, identityPolicies: identity, grants: row.grants)
        switch (row.expected, outcome) {
        case (.allow, .allowed), (.explicitDeny, .explicitDeny), (.implicitDeny, .implicitDeny): break
        default: Issue.record("\(row.name) [\(row.source)]: expected \(row.expected), got \(outcome)")
        }
    }

    @Test func theTableHasAtLeastEightyRowsEachWithItsSource() {
        #expect(Self.cases.count >= 80)
        #expect(Self.cases.allSatisfy { !$0.source.isEmpty })
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count, "row names are unique")
    }
}
