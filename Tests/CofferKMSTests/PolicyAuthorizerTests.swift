import CofferKMS
import CofferPolicy
import CofferStore
import Testing

/// The authorizer's condition keys: built only for the names a policy tests, from the service first and
/// the request second; absent keys stay absent (IfExists, Null); an ambiguous encryption context refused
/// whichever policy tests it.
@Suite struct PolicyAuthorizerTests {
    static let account = "111122223333"
    static let alice = "arn:aws:iam::111122223333:user/alice"
    static let authorizer = PolicyAuthorizer(clock: { 1_800_000_000 })

    static func identity(_ condition: String) throws -> PolicyDocument {
        try PolicyDocument(
            json: #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":\#(condition)}]}"#,
            kind: .identityPolicy)
    }

    static func key(multiRegion: Bool = false) -> KeyRecord {
        KeyRecord(
            scope: KeyScope(account: account, region: "us-east-1"),
            id: multiRegion ? "mrk-1234abcd12ab34cd56ef1234567890ab" : "1234abcd-12ab-34cd-56ef-1234567890ab",
            description: "", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT", state: .enabled,
            creationDate: 1,
            policy:
                #"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#,
            primaryRegion: multiRegion ? "us-east-1" : nil)
    }

    static func decide(
        _ condition: String, key: KeyRecord? = key(), source: String? = nil,
        conditions: RequestConditions = RequestConditions()
    ) async throws -> Bool {
        let context = RequestContext(
            account: account, region: "us-east-1", principal: alice, accessKeyID: "AKID", requestID: "r",
            sourceAddress: source, identityPolicies: [try identity(condition)])
        return try await authorizer.authorize(
            AuthorizationInput(action: "kms:Encrypt", key: key, context: context, conditions: conditions)
        ).allowed
    }

    @Test func aConditionTestedOnlyByTheIdentityPolicyIsBuilt() async throws {
        let tenant = #"{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}"#
        #expect(
            try await Self.decide(tenant, conditions: RequestConditions(keys: ["kms:encryptioncontext:tenant": ["a"]])))
        #expect(
            !(try await Self.decide(
                tenant, conditions: RequestConditions(keys: ["kms:encryptioncontext:tenant": ["b"]]))))
        #expect(!(try await Self.decide(tenant)))
    }

    @Test func anAmbiguousContextIsRefusedWhenOnlyTheIdentityPolicyTestsIt() async throws {
        var conditions = RequestConditions(keys: ["kms:encryptioncontext:tenant": ["a"]])
        conditions.ambiguousKeys = ["kms:encryptioncontext:tenant"]
        #expect(
            !(try await Self.decide(#"{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}"#, conditions: conditions)))
    }

    @Test func absentKeysStayAbsent() async throws {
        // No source address: IfExists holds, Null says absent, a plain test fails.
        #expect(try await Self.decide(#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#))
        #expect(try await Self.decide(#"{"Null":{"aws:SourceIp":"true"}}"#))
        #expect(!(try await Self.decide(#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)))
        #expect(try await Self.decide(#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, source: "10.1.2.3"))
        // A key that is not multi-Region has no kms:MultiRegionKeyType; a primary has PRIMARY.
        let primary = #"{"StringEquals":{"kms:MultiRegionKeyType":"PRIMARY"}}"#
        #expect(!(try await Self.decide(primary)))
        #expect(try await Self.decide(#"{"Null":{"kms:MultiRegionKeyType":"true"}}"#))
        #expect(try await Self.decide(primary, key: Self.key(multiRegion: true)))
    }

    @Test func theRequestCannotSupplyAKeyTheServiceSets() async throws {
        let callerAccount = #"{"StringEquals":{"kms:CallerAccount":"444455556666"}}"#
        let forged = RequestConditions(keys: ["kms:calleraccount": ["444455556666"], "kms:keyspec": ["RSA_2048"]])
        #expect(!(try await Self.decide(callerAccount, conditions: forged)))
        #expect(!(try await Self.decide(#"{"StringEquals":{"kms:KeySpec":"RSA_2048"}}"#, conditions: forged)))
        #expect(try await Self.decide(#"{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}"#, conditions: forged))
    }
}
