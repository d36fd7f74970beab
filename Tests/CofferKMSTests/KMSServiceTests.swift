import CofferCrypto
import CofferKMS
import CofferStore
import CofferTestSupport
import CofferWire
import Testing

/// The KMS operations for symmetric keys through the registry's pipeline, over a real HSM and a real
/// SQLite store.
@Suite(.serialized) struct KMSServiceTests {
    static let region = KMSWorld.region
    static let account = KMSWorld.account
    static let missing = "11111111-1111-1111-1111-111111111111"

    @Test func createDescribeListAndKeyARNs() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        #expect(key.arn == "arn:aws:kms:\(Self.region):\(Self.account):key/\(key.keyId)")
        #expect(key.awsAccountId == Self.account && key.enabled == true && key.keyState == .enabled)
        #expect(key.keySpec == .symmetricDefault && key.encryptionAlgorithms == [.symmetricDefault])
        let described = try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: key.arn!)).keyMetadata
        #expect(described?.keyId == key.keyId && described?.creationDate == key.creationDate)
        let upper = try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: key.keyId.uppercased()))
        #expect(upper.keyMetadata?.keyId == key.keyId)
        for _ in 0..<4 { _ = try await world.newKey() }
        let first = try await world.call(ListKeys.self, ListKeysRequest(limit: 3))
        let rest = try await world.call(ListKeys.self, ListKeysRequest(limit: 3, marker: first.nextMarker))
        #expect(first.keys?.count == 3 && first.truncated == true && rest.keys?.count == 2 && rest.truncated == false)
        #expect(Set((first.keys! + rest.keys!).map(\.keyId)).count == 5)
        for name in [
            "arn:aws:kms:\(Self.region):999999999999:key/\(key.keyId)",
            "arn:aws:kms:us-east-1:\(Self.account):key/\(key.keyId)", Self.missing, "not-a-key-id",
        ] {
            #expect(await world.failure(DescribeKey.self, DescribeKeyRequest(keyId: name)) == "NotFoundException")
        }
        #expect(await world.failure(ListKeys.self, ListKeysRequest(marker: "%%%")) == "InvalidMarkerException")
        #expect(
            await world.failure(CreateKey.self, CreateKeyRequest(keySpec: .mlDsa44))
                == "UnsupportedOperationException")
        #expect(
            await world.failure(CreateKey.self, CreateKeyRequest(origin: .awsCloudhsm))
                == "UnsupportedOperationException")
        #expect(
            await world.failure(CreateKey.self, CreateKeyRequest(keyUsage: .signVerify)) == "ValidationException")
        #expect(
            await world.failure(CreateKey.self, CreateKeyRequest(policy: "not json"))
                == "MalformedPolicyDocumentException")
        await world.stop()
    }

    @Test func keysLiveInOneAccountAndOneRegion() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        _ = try await world.call(CreateAlias.self, CreateAliasRequest(aliasName: "alias/app", targetKeyId: key.keyId))
        let blob = try await world.encrypt(key.keyId, [1, 2, 3])
        for (account, region) in [(Self.account, "us-east-1"), ("444455556666", Self.region)] {
            let stranger = RequestContext(
                account: account, region: region, principal: "arn:aws:iam::\(account):root", accessKeyID: "AKID2",
                requestID: "r")
            for name in [key.keyId, key.arn!, "alias/app"] {
                #expect(
                    await world.failure(DescribeKey.self, DescribeKeyRequest(keyId: name), as: stranger)
                        == "NotFoundException")
            }
            #expect(
                await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: blob), as: stranger)
                    == "InvalidCiphertextException")
            #expect(try await world.call(ListKeys.self, ListKeysRequest(), as: stranger).keys?.isEmpty == true)
            // The same alias name is free in the other scope.
            let theirs = try await world.call(CreateKey.self, CreateKeyRequest(), as: stranger).keyMetadata!
            #expect(theirs.arn == "arn:aws:kms:\(region):\(account):key/\(theirs.keyId)")
            _ = try await world.call(
                CreateAlias.self, CreateAliasRequest(aliasName: "alias/app", targetKeyId: theirs.keyId), as: stranger)
            #expect(
                try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: "alias/app"), as: stranger)
                    .keyMetadata?.keyId == theirs.keyId)
        }
        #expect(
            try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: "alias/app")).keyMetadata?.keyId
                == key.keyId)
        await world.stop()
    }

    @Test func encryptDecryptBindTheContextAndNameTheKey() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let other = try await world.newKey()
        let message: [UInt8] = Array("attack at dawn".utf8)
        let context = [("purpose", "test")]
        let sealed = try await world.call(
            Encrypt.self,
            EncryptRequest(
                keyId: key.keyId, plaintext: SecretBytes(copying: message),
                encryptionContext: StringPairs([(key: "purpose", value: "test")])))
        #expect(sealed.keyId == key.arn && sealed.encryptionAlgorithm == .symmetricDefault)
        let blob = sealed.ciphertextBlob!
        let opened = try await world.call(
            Decrypt.self,
            DecryptRequest(
                ciphertextBlob: blob, encryptionContext: StringPairs([(key: "purpose", value: "test")]),
                keyId: key.arn, encryptionAlgorithm: .symmetricDefault))
        #expect(opened.plaintext == SecretBytes(copying: message) && opened.keyId == key.arn)
        #expect(
            await world.failure(
                Decrypt.self,
                DecryptRequest(
                    ciphertextBlob: blob, encryptionContext: StringPairs([(key: "purpose", value: "test")]),
                    keyId: other.keyId)) == "IncorrectKeyException")
        #expect(await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: blob)) == "InvalidCiphertextException")
        var flipped = blob
        flipped[flipped.count - 1] ^= 1
        #expect(
            await world.failure(
                Decrypt.self,
                DecryptRequest(
                    ciphertextBlob: flipped, encryptionContext: StringPairs([(key: "purpose", value: "test")])))
                == "InvalidCiphertextException")
        #expect(
            await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: [1, 2, 3])) == "InvalidCiphertextException"
        )
        #expect(await world.failure(Decrypt.self, DecryptRequest()) == "ValidationException")
        #expect(
            await world.failure(
                Encrypt.self,
                EncryptRequest(keyId: key.keyId, plaintext: SecretBytes(copying: [UInt8](repeating: 1, count: 4097))))
                == "ValidationException")
        #expect(
            await world.failure(
                Encrypt.self,
                EncryptRequest(
                    keyId: key.keyId, plaintext: SecretBytes(copying: [1]), encryptionAlgorithm: .rsaesOaepSha256))
                == "InvalidKeyUsageException")
        #expect(
            await world.failure(
                Encrypt.self, EncryptRequest(keyId: key.keyId, plaintext: SecretBytes(copying: [1]), dryRun: true))
                == "DryRunOperationException")
        // ReEncrypt to the other key and no context.
        let moved = try await world.call(
            ReEncrypt.self,
            ReEncryptRequest(
                ciphertextBlob: blob, sourceEncryptionContext: StringPairs([(key: "purpose", value: "test")]),
                destinationKeyId: other.arn!))
        #expect(moved.sourceKeyId == key.arn && moved.keyId == other.arn)
        #expect(try await world.decrypt(moved.ciphertextBlob!) == SecretBytes(copying: message))
        #expect(try await world.decrypt(blob, context: context) == SecretBytes(copying: message))
        await world.stop()
    }

    @Test func dataKeysAndRandomBytes() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let data = try await world.call(
            GenerateDataKey.self, GenerateDataKeyRequest(keyId: key.keyId, keySpec: .aes256))
        #expect(data.plaintext?.count == 32 && data.keyId == key.arn)
        #expect(try await world.decrypt(data.ciphertextBlob!) == data.plaintext)
        let bare = try await world.call(
            GenerateDataKeyWithoutPlaintext.self,
            GenerateDataKeyWithoutPlaintextRequest(keyId: key.keyId, numberOfBytes: 1024))
        #expect(try await world.decrypt(bare.ciphertextBlob!).count == 1024)
        for request in [
            GenerateDataKeyRequest(keyId: key.keyId, numberOfBytes: 32, keySpec: .aes256),
            GenerateDataKeyRequest(keyId: key.keyId), GenerateDataKeyRequest(keyId: key.keyId, numberOfBytes: 1025),
            GenerateDataKeyRequest(keyId: key.keyId, numberOfBytes: 0),
        ] {
            #expect(await world.failure(GenerateDataKey.self, request) == "ValidationException")
        }
        #expect(
            try await world.call(GenerateRandom.self, GenerateRandomRequest(numberOfBytes: 1024)).plaintext?.count
                == 1024)
        #expect(
            try await world.call(GenerateRandom.self, GenerateRandomRequest(numberOfBytes: 1)).plaintext?.count == 1)
        for count in [0, 1025, nil] {
            #expect(
                await world.failure(GenerateRandom.self, GenerateRandomRequest(numberOfBytes: count))
                    == "ValidationException")
        }
        await world.stop()
    }

    @Test func keyStatesAndScheduledDeletion() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let blob = try await world.encrypt(key.keyId, [7])
        _ = try await world.call(DisableKey.self, DisableKeyRequest(keyId: key.keyId))
        #expect(
            await world.failure(Encrypt.self, EncryptRequest(keyId: key.keyId, plaintext: SecretBytes(copying: [7])))
                == "DisabledException")
        #expect(await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: blob)) == "DisabledException")
        _ = try await world.call(EnableKey.self, EnableKeyRequest(keyId: key.arn!))
        #expect(await world.failure(EnableKey.self, EnableKeyRequest(keyId: "alias/none")) == "NotFoundException")
        for days in [6, 31] {
            #expect(
                await world.failure(
                    ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: days))
                    == "ValidationException")
        }
        let scheduled = try await world.call(
            ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: 7))
        #expect(scheduled.deletionDate == Double(world.clock.seconds + 7 * 86_400) && scheduled.keyId == key.arn)
        #expect(
            await world.failure(Encrypt.self, EncryptRequest(keyId: key.keyId, plaintext: SecretBytes(copying: [7])))
                == "KMSInvalidStateException")
        #expect(await world.failure(EnableKey.self, EnableKeyRequest(keyId: key.keyId)) == "KMSInvalidStateException")
        #expect(
            try await world.call(CancelKeyDeletion.self, CancelKeyDeletionRequest(keyId: key.keyId)).keyId == key.arn)
        #expect(
            await world.failure(CancelKeyDeletion.self, CancelKeyDeletionRequest(keyId: key.keyId))
                == "KMSInvalidStateException")
        #expect(
            try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: key.keyId)).keyMetadata?.keyState
                == .disabled)
        _ = try await world.call(EnableKey.self, EnableKeyRequest(keyId: key.keyId))
        #expect(try await world.decrypt(blob) == SecretBytes(copying: [7]))
        // Really deleted when the window passes.
        _ = try await world.call(
            ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: 7))
        world.clock.advance(7 * 86_400)
        #expect(try await world.kms.runScheduledWork().deleted == [key.keyId])
        #expect(await world.failure(DescribeKey.self, DescribeKeyRequest(keyId: key.keyId)) == "NotFoundException")
        #expect(await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: blob)) == "InvalidCiphertextException")
        await world.stop()
    }

    @Test func aliasesTagsAndPolicies() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let other = try await world.newKey()
        _ = try await world.call(CreateAlias.self, CreateAliasRequest(aliasName: "alias/app", targetKeyId: key.keyId))
        for name in ["alias/app", "arn:aws:kms:\(Self.region):\(Self.account):alias/app"] {
            #expect(
                try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: name)).keyMetadata?.keyId == key.keyId)
        }
        #expect(
            await world.failure(CreateAlias.self, CreateAliasRequest(aliasName: "alias/app", targetKeyId: other.keyId))
                == "AlreadyExistsException")
        #expect(
            await world.failure(
                CreateAlias.self, CreateAliasRequest(aliasName: "alias/aws/x", targetKeyId: other.keyId))
                == "NotAuthorizedException")
        #expect(
            await world.failure(CreateAlias.self, CreateAliasRequest(aliasName: "app", targetKeyId: other.keyId))
                == "ValidationException")
        #expect(
            await world.failure(CreateAlias.self, CreateAliasRequest(aliasName: "alias/x", targetKeyId: "alias/app"))
                == "NotFoundException")
        _ = try await world.call(UpdateAlias.self, UpdateAliasRequest(aliasName: "alias/app", targetKeyId: other.keyId))
        #expect(
            try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: "alias/app")).keyMetadata?.keyId
                == other.keyId)
        let listed = try await world.call(ListAliases.self, ListAliasesRequest(keyId: other.keyId))
        #expect(listed.aliases?.map(\.aliasName) == ["alias/app"])
        #expect(listed.aliases?.first?.aliasArn == "arn:aws:kms:\(Self.region):\(Self.account):alias/app")
        #expect(listed.aliases?.first?.creationDate != nil && listed.aliases?.first?.lastUpdatedDate != nil)
        _ = try await world.call(DeleteAlias.self, DeleteAliasRequest(aliasName: "alias/app"))
        #expect(
            await world.failure(DeleteAlias.self, DeleteAliasRequest(aliasName: "alias/app")) == "NotFoundException")
        _ = try await world.call(
            TagResource.self,
            TagResourceRequest(
                keyId: key.keyId, tags: [Tag(tagKey: "team", tagValue: "a"), Tag(tagKey: "env", tagValue: "dev")]))
        _ = try await world.call(UntagResource.self, UntagResourceRequest(keyId: key.keyId, tagKeys: ["env"]))
        #expect(
            try await world.call(ListResourceTags.self, ListResourceTagsRequest(keyId: key.keyId)).tags?.map(\.tagKey)
                == ["team"])
        #expect(
            await world.failure(
                TagResource.self, TagResourceRequest(keyId: key.keyId, tags: [Tag(tagKey: "aws:x", tagValue: "")]))
                == "TagException")
        let policy = try await world.call(GetKeyPolicy.self, GetKeyPolicyRequest(keyId: key.keyId)).policy
        #expect(policy?.contains(Self.account) == true)
        let rootOnly =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(Self.account)"},"Action":"kms:*","Resource":"*"}]}"#
        _ = try await world.call(PutKeyPolicy.self, PutKeyPolicyRequest(keyId: key.keyId, policy: rootOnly))
        #expect(try await world.call(GetKeyPolicy.self, GetKeyPolicyRequest(keyId: key.keyId)).policy == rootOnly)
        for malformed in ["[]", #"{"Version":"2012-10-17","Statement":[]}"#] {
            #expect(
                await world.failure(PutKeyPolicy.self, PutKeyPolicyRequest(keyId: key.keyId, policy: malformed))
                    == "MalformedPolicyDocumentException")
        }
        // The key is looked up before the policy is read, as AWS does.
        #expect(
            await world.failure(PutKeyPolicy.self, PutKeyPolicyRequest(keyId: Self.missing, policy: "[]"))
                == "NotFoundException")
        await world.stop()
    }

    @Test func rotationMakesANewBackingKeyAndOldCiphertextsStillDecrypt() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let message: [UInt8] = Array("before".utf8)
        let before = try await world.encrypt(key.keyId, message)
        #expect(
            try await world.call(RotateKeyOnDemand.self, RotateKeyOnDemandRequest(keyId: key.keyId)).keyId == key.keyId)
        let after = try await world.encrypt(key.keyId, message)
        #expect(before[17..<33] != after[17..<33], "a new backing key encrypts from now on")
        #expect(try await world.decrypt(before) == SecretBytes(copying: message))
        _ = try await world.call(
            EnableKeyRotation.self, EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: 90))
        let status = try await world.call(GetKeyRotationStatus.self, GetKeyRotationStatusRequest(keyId: key.keyId))
        #expect(status.keyRotationEnabled == true && status.keyId == key.keyId && status.rotationPeriodInDays == 90)
        world.clock.advance(90 * 86_400)
        #expect(try await world.kms.runScheduledWork().rotated == [key.keyId])
        let rotations = try await world.call(ListKeyRotations.self, ListKeyRotationsRequest(keyId: key.keyId))
        #expect(rotations.rotations?.map(\.rotationType) == [.onDemand, .automatic])
        // Limit and Marker page through the rotations.
        let first = try await world.call(ListKeyRotations.self, ListKeyRotationsRequest(keyId: key.keyId, limit: 1))
        #expect(first.rotations?.map(\.rotationType) == [.onDemand] && first.truncated == true)
        let second = try await world.call(
            ListKeyRotations.self, ListKeyRotationsRequest(keyId: key.keyId, limit: 1, marker: first.nextMarker))
        #expect(second.rotations?.map(\.rotationType) == [.automatic] && second.truncated == false)
        _ = try await world.call(DisableKeyRotation.self, DisableKeyRotationRequest(keyId: key.keyId))
        #expect(
            try await world.call(GetKeyRotationStatus.self, GetKeyRotationStatusRequest(keyId: key.keyId))
                .keyRotationEnabled
                == false)
        #expect(try await world.decrypt(after) == SecretBytes(copying: message))
        await world.stop()
    }
}
