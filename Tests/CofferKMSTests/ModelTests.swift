import CofferCrypto
import CofferJSON
import Testing

@testable import CofferKMS

/// The generated model: JSON read as JSON, AWS's constraint checks and wording, every shape round trips.
@Suite struct ModelTests {
    private func refusal<S: KMSShape>(_ type: S.Type, _ json: String) -> KMSError? {
        do {
            _ = try S(json: Array(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func everyPatternOfTheModelCompiles() throws {
        #expect(KMSPatterns.all.count >= 10)
        for pattern in KMSPatterns.all { _ = try Regex(pattern.swift) }
        #expect(KMSPatterns.aliasNameType.matches("alias/app-1_x"))
        #expect(!KMSPatterns.aliasNameType.matches("alias/app!"))
        #expect(KMSPatterns.policyNameType.matches("default") && !KMSPatterns.policyNameType.matches("déf"))
        #expect(KMSPatterns.regionType.matches("eu-west-1") && !KMSPatterns.regionType.matches("eu-west-1x"))
    }

    @Test func numbersAreNumbersAndBooleansAreBooleans() throws {
        // The first release read 0 and 1 as booleans (Foundation on Linux): `--limit 1` failed.
        for limit in ["1", "0", "1000", "1001"] {
            #expect(refusal(ListKeysRequest.self, #"{"Limit":\#(limit)}"#)?.code != .serialization)
        }
        #expect(try ListKeysRequest(json: Array(#"{"Limit":1}"#.utf8)).limit == 1)
        for wrong in ["true", "1.5", "1e2", "\"1\"", "[1]", "{}", "99999999999999999999"] {
            #expect(refusal(ListKeysRequest.self, #"{"Limit":\#(wrong)}"#)?.code == .serialization, "\(wrong)")
        }
        #expect(
            try EncryptRequest(json: Array(#"{"KeyId":"k","Plaintext":"AA==","DryRun":false}"#.utf8)).dryRun == false)
        for wrong in ["0", "1", "\"true\"", "null1"] {
            #expect(
                refusal(EncryptRequest.self, #"{"KeyId":"k","Plaintext":"AA==","DryRun":\#(wrong)}"#)?.code
                    == .serialization, "\(wrong)")
        }
        #expect(try EncryptRequest(json: Array(#"{"KeyId":"k","Plaintext":"AA==","DryRun":null}"#.utf8)).dryRun == nil)
    }

    @Test func constraintsAreAnsweredInAWSWords() {
        #expect(
            refusal(ListKeysRequest.self, #"{"Limit":0}"#)?.message
                == "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
        #expect(
            refusal(ListKeysRequest.self, #"{"Limit":1001}"#)?.message
                == "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
        )
        let plaintext = String(repeating: "A", count: 5463) + "="  // 4097 bytes
        #expect(
            refusal(EncryptRequest.self, #"{"KeyId":"k","Plaintext":"\#(plaintext)"}"#)?.message
                == "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        )
        #expect(
            refusal(EncryptRequest.self, "{}")?.message
                == "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
        )
        #expect(
            refusal(CreateKeyRequest.self, #"{"KeySpec":"AES"}"#)?.message
                == "1 validation error detected: Value 'AES' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519]"
        )
        #expect(
            refusal(CreateAliasRequest.self, #"{"AliasName":"alias/a!","TargetKeyId":"k"}"#)?.message
                == "1 validation error detected: Value 'alias/a!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )
        #expect(
            refusal(TagResourceRequest.self, #"{"KeyId":"k","Tags":[{"TagKey":"","TagValue":"v"}]}"#)?.message
                == "1 validation error detected: Value '' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
        #expect(refusal(DescribeKeyRequest.self, #"{"KeyId":""}"#)?.code == .validation)
        #expect(refusal(DescribeKeyRequest.self, #"{"KeyId":"k","KeyId":"k"}"#)?.code == .serialization)
        #expect(refusal(DescribeKeyRequest.self, #"[]"#)?.code == .serialization)
        #expect(refusal(DescribeKeyRequest.self, #"{"KeyId":"k""#)?.code == .serialization)
        #expect(refusal(EncryptRequest.self, #"{"KeyId":"k","Plaintext":"AA="}"#)?.code == .serialization)
    }

    @Test func theEncryptionContextKeepsEveryNameAsSent() throws {
        let request = try EncryptRequest(
            json: Array(#"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{"\u00e9":"1","e\u0301":"2"}}"#.utf8))
        #expect(request.encryptionContext?.pairs.count == 2)
        #expect(request.encryptionContext?.pairs.map { Array($0.key.unicodeScalars) }.count == 2)
        #expect(
            refusal(EncryptRequest.self, #"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{"a":1}}"#)?.code
                == .serialization)
    }

    @Test func everyRequestShapeRoundTrips() throws {
        let body = Array(
            #"{"KeyId":"alias/x","Plaintext":"AQID","EncryptionContext":{"b":"2","a":"1"},"GrantTokens":["t"],"EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":true}"#
                .utf8)
        let request = try EncryptRequest(json: body)
        #expect(request.json == body)
        #expect(request.plaintext == SecretBytes(copying: [1, 2, 3]))
        #expect(request.isDryRun)
        #expect(KMSOperationNames.all.count == 54)
        #expect(KMSRegistry.operations.count == 48)
        for operation in KMSRegistry.operations {
            #expect(KMSRegistry.isAWSOperation(operation.name))
            #expect(operation.action == "kms:\(operation.name)" || operation.name == "ReEncrypt")
        }
    }
}
