import CofferCrypto
import CofferKMS
import CofferStore
import CofferTestSupport
import CofferWire
import Testing

/// KMS operations for symmetric keys, over a real HSM and a real SQLite store.
@Suite(.serialized) struct KMSServiceTests {
    static let region = KMSWorld.region

    @Test func createDescribeListAndKeyARNs() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        #expect(key.arn == "arn:aws:kms:\(Self.region):\(KMSWorld.account):key/\(key.keyID)")
        #expect(key.enabled && key.keyState == "Enabled" && key.keySpec == "SYMMETRIC_DEFAULT")
        #expect(try await world.kms.describeKey(key.arn, region: Self.region) == key)
        #expect(try await world.kms.describeKey(key.keyID.uppercased(), region: Self.region).keyID == key.keyID)
        for _ in 0..<4 { _ = try await world.newKey() }
        let (first, marker) = try await world.kms.listKeys(limit: 3, marker: nil, region: Self.region)
        let (rest, end) = try await world.kms.listKeys(limit: 3, marker: marker, region: Self.region)
        #expect(first.count == 3 && rest.count == 2 && end == nil)
        #expect(
            await kmsError {
                _ = try await world.kms.describeKey(
                    "arn:aws:kms:\(Self.region):999999999999:key/\(key.keyID)", region: Self.region)
            } == "NotFoundException")
        #expect(
            await kmsError { _ = try await world.kms.listKeys(limit: 0, marker: nil, region: Self.region) }
                == "ValidationException")
        #expect(
            await kmsError { _ = try await world.kms.listKeys(limit: 5, marker: "%%%", region: Self.region) }
                == "InvalidMarkerException")
        #expect(
            await kmsError { _ = try await world.kms.createKey(keySpec: "RSA_2048", region: Self.region) }
                == "UnsupportedOperationException")
        #expect(
            await kmsError { _ = try await world.kms.createKey(policy: "not json", region: Self.region) }
                == "MalformedPolicyDocumentException")
        await world.stop()
    }

    @Test func encryptDecryptBindTheContextAndNameTheKey() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let other = try await world.newKey()
        let context = try EncryptionContext(["purpose": "test"])
        let message = SecretBytes(copying: Array("attack at dawn".utf8))
        let sealed = try await world.kms.encrypt(
            key.keyID, plaintext: message, context: context, algorithm: nil, region: Self.region)
        #expect(sealed.keyARN == key.arn)
        let opened = try await world.kms.decrypt(
            sealed.blob, keyID: nil, context: context, algorithm: nil, region: Self.region)
        #expect(opened.plaintext == message)
        #expect(opened.keyARN == key.arn)
        #expect(
            try await world.kms.decrypt(
                sealed.blob, keyID: key.arn, context: context, algorithm: "SYMMETRIC_DEFAULT", region: Self.region
            ).plaintext == message)
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(
                    sealed.blob, keyID: other.keyID, context: context, algorithm: nil, region: Self.region)
            } == "IncorrectKeyException")
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(
                    sealed.blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
            } == "InvalidCiphertextException")
        var flipped = sealed.blob
        flipped[flipped.count - 1] ^= 1
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(
                    flipped, keyID: nil, context: context, algorithm: nil, region: Self.region)
            } == "InvalidCiphertextException")
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(
                    [1, 2, 3], keyID: nil, context: context, algorithm: nil, region: Self.region)
            } == "InvalidCiphertextException")
        #expect(
            await kmsError {
                _ = try await world.kms.encrypt(
                    key.keyID, plaintext: SecretBytes(copying: [UInt8](repeating: 1, count: 4097)), context: .empty,
                    algorithm: nil, region: Self.region)
            } == "ValidationException")
        #expect(
            await kmsError {
                _ = try await world.kms.encrypt(
                    key.keyID, plaintext: message, context: .empty, algorithm: "RSAES_OAEP_SHA_256", region: Self.region
                )
            } == "InvalidKeyUsageException")
        // ReEncrypt to the other key and context.
        let moved = try await world.kms.reEncrypt(
            sealed.blob, sourceKeyID: nil, sourceContext: context, destinationKeyID: other.arn,
            destinationContext: .empty, region: Self.region)
        #expect(moved.sourceKeyARN == key.arn)
        #expect(
            try await world.kms.decrypt(
                moved.ciphertext.blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region
            ).plaintext == message)
        await world.stop()
    }

    @Test func dataKeysAndRandomBytes() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let (blob, plaintext) = try await world.kms.generateDataKey(
            key.keyID, keySpec: "AES_256", numberOfBytes: nil, context: .empty, returnPlaintext: true,
            region: Self.region)
        #expect(plaintext?.count == 32)
        #expect(
            try await world.kms.decrypt(blob.blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
                .plaintext == plaintext)
        let (_, none) = try await world.kms.generateDataKey(
            key.keyID, keySpec: nil, numberOfBytes: 1024, context: .empty, returnPlaintext: false, region: Self.region)
        #expect(none == nil)
        #expect(
            await kmsError {
                _ = try await world.kms.generateDataKey(
                    key.keyID, keySpec: "AES_256", numberOfBytes: 32, context: .empty, returnPlaintext: true,
                    region: Self.region)
            } == "ValidationException")
        #expect(
            await kmsError {
                _ = try await world.kms.generateDataKey(
                    key.keyID, keySpec: nil, numberOfBytes: nil, context: .empty, returnPlaintext: true,
                    region: Self.region)
            } == "ValidationException")
        #expect(
            await kmsError {
                _ = try await world.kms.generateDataKey(
                    key.keyID, keySpec: nil, numberOfBytes: 1025, context: .empty, returnPlaintext: true,
                    region: Self.region)
            } == "ValidationException")
        #expect(try await world.kms.generateRandom(numberOfBytes: 1024).count == 1024)
        #expect(await kmsError { _ = try await world.kms.generateRandom(numberOfBytes: 0) } == "ValidationException")
        await world.stop()
    }

    @Test func keyStatesAndScheduledDeletion() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let message = SecretBytes(copying: [7])
        let blob = try await world.kms.encrypt(
            key.keyID, plaintext: message, context: .empty, algorithm: nil, region: Self.region
        ).blob
        try await world.kms.setEnabled(key.keyID, false)
        #expect(
            await kmsError {
                _ = try await world.kms.encrypt(
                    key.keyID, plaintext: message, context: .empty, algorithm: nil, region: Self.region)
            } == "DisabledException")
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
            } == "DisabledException")
        try await world.kms.setEnabled(key.arn, true)
        #expect(
            await kmsError {
                _ = try await world.kms.scheduleDeletion(key.keyID, pendingWindowInDays: 6, region: Self.region)
            } == "ValidationException")
        let scheduled = try await world.kms.scheduleDeletion(key.keyID, pendingWindowInDays: 7, region: Self.region)
        #expect(scheduled.deletionDate == world.clock.seconds + 7 * 86_400)
        #expect(
            await kmsError {
                _ = try await world.kms.encrypt(
                    key.keyID, plaintext: message, context: .empty, algorithm: nil, region: Self.region)
            } == "KMSInvalidStateException")
        #expect(await kmsError { try await world.kms.setEnabled(key.keyID, true) } == "KMSInvalidStateException")
        _ = try await world.kms.cancelDeletion(key.keyID, region: Self.region)
        #expect(try await world.kms.describeKey(key.keyID, region: Self.region).keyState == "Disabled")
        try await world.kms.setEnabled(key.keyID, true)
        #expect(
            try await world.kms.decrypt(blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
                .plaintext == message)
        // Really deleted when the window passes.
        _ = try await world.kms.scheduleDeletion(key.keyID, pendingWindowInDays: 7, region: Self.region)
        world.clock.advance(7 * 86_400)
        #expect(try await world.kms.runScheduledWork().deleted == [key.keyID])
        #expect(
            await kmsError { _ = try await world.kms.describeKey(key.keyID, region: Self.region) }
                == "NotFoundException")
        #expect(
            await kmsError {
                _ = try await world.kms.decrypt(blob, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
            } == "InvalidCiphertextException")
        await world.stop()
    }

    @Test func aliasesTagsAndPolicies() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let other = try await world.newKey()
        try await world.kms.createAlias("alias/app", targetKeyID: key.keyID)
        #expect(try await world.kms.describeKey("alias/app", region: Self.region).keyID == key.keyID)
        #expect(
            try await world.kms.describeKey(
                "arn:aws:kms:\(Self.region):\(KMSWorld.account):alias/app", region: Self.region
            ).keyID == key.keyID)
        #expect(
            await kmsError { try await world.kms.createAlias("alias/app", targetKeyID: other.keyID) }
                == "AlreadyExistsException")
        #expect(
            await kmsError { try await world.kms.createAlias("alias/aws/x", targetKeyID: other.keyID) }
                == "InvalidAliasNameException")
        #expect(
            await kmsError { try await world.kms.createAlias("app", targetKeyID: other.keyID) } == "ValidationException"
        )
        #expect(
            await kmsError { try await world.kms.createAlias("alias/x", targetKeyID: "alias/app") }
                == "NotFoundException")
        try await world.kms.updateAlias("alias/app", targetKeyID: other.keyID)
        #expect(try await world.kms.describeKey("alias/app", region: Self.region).keyID == other.keyID)
        let sealed = try await world.kms.encrypt(
            "alias/app", plaintext: SecretBytes(copying: [1]), context: .empty, algorithm: nil, region: Self.region)
        #expect(sealed.keyARN == other.arn)
        #expect(
            try await world.kms.listAliases(keyID: other.keyID, limit: nil, marker: nil).0.map(\.name) == ["alias/app"])
        try await world.kms.deleteAlias("alias/app")
        #expect(await kmsError { try await world.kms.deleteAlias("alias/app") } == "NotFoundException")
        try await world.kms.tagResource(
            key.keyID, tags: [TagRecord(key: "team", value: "a"), TagRecord(key: "env", value: "dev")])
        try await world.kms.untagResource(key.keyID, tagKeys: ["env"])
        #expect(try await world.kms.listResourceTags(key.keyID) == [TagRecord(key: "team", value: "a")])
        #expect(
            await kmsError { try await world.kms.tagResource(key.keyID, tags: [TagRecord(key: "aws:x", value: "")]) }
                == "TagException")
        #expect(try await world.kms.keyPolicy(key.keyID, name: nil).contains(KMSWorld.account))
        try await world.kms.putKeyPolicy(
            key.keyID, name: "default", policy: #"{"Version":"2012-10-17","Statement":[]}"#)
        #expect(
            try await world.kms.keyPolicy(key.keyID, name: "default") == #"{"Version":"2012-10-17","Statement":[]}"#)
        #expect(
            await kmsError { try await world.kms.putKeyPolicy(key.keyID, name: nil, policy: "[]") }
                == "MalformedPolicyDocumentException")
        await world.stop()
    }

    @Test func rotationMakesANewBackingKeyAndOldCiphertextsStillDecrypt() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        let message = SecretBytes(copying: Array("before".utf8))
        let before = try await world.kms.encrypt(
            key.keyID, plaintext: message, context: .empty, algorithm: nil, region: Self.region
        ).blob
        _ = try await world.kms.rotateOnDemand(key.keyID, region: Self.region)
        let after = try await world.kms.encrypt(
            key.keyID, plaintext: message, context: .empty, algorithm: nil, region: Self.region
        ).blob
        #expect(before[17..<33] != after[17..<33], "a new backing key encrypts from now on")
        #expect(
            try await world.kms.decrypt(before, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
                .plaintext == message)
        #expect(try await world.kms.listRotations(key.keyID, region: Self.region).map(\.rotationType) == ["ON_DEMAND"])
        #expect(
            await kmsError { try await world.kms.enableRotation(key.keyID, periodInDays: 89) } == "ValidationException")
        try await world.kms.enableRotation(key.keyID, periodInDays: 90)
        #expect(try await world.kms.rotationStatus(key.keyID).enabled)
        world.clock.advance(90 * 86_400)
        #expect(try await world.kms.runScheduledWork().rotated == [key.keyID])
        #expect(
            try await world.kms.listRotations(key.keyID, region: Self.region).map(\.rotationType) == [
                "AUTOMATIC", "ON_DEMAND",
            ])
        try await world.kms.disableRotation(key.keyID)
        #expect(try await world.kms.rotationStatus(key.keyID).enabled == false)
        #expect(
            try await world.kms.decrypt(after, keyID: nil, context: .empty, algorithm: nil, region: Self.region)
                .plaintext == message)
        await world.stop()
    }
}
