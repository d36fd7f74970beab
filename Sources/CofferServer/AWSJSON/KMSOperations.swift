import CofferCrypto
import CofferKMS
import CofferStore
import Foundation

/// The operation table: AWS JSON member names in and out, the work done by ``KMSService``.
enum KMSOperations {
    typealias Handler = @Sendable (KMSService, JSONInput, String) async throws -> [String: Any]

    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func b64(_ secret: SecretBytes) -> String { secret.withUnsafeBytes { Data($0).base64EncodedString() } }

    static func metadata(_ m: KeyMetadata) -> [String: Any] {
        var out: [String: Any] = [
            "AWSAccountId": m.accountID, "KeyId": m.keyID, "Arn": m.arn, "CreationDate": Double(m.creationDate),
            "Enabled": m.enabled, "Description": m.description, "KeyUsage": m.keyUsage, "KeyState": m.keyState,
            "Origin": m.origin, "KeyManager": m.keyManager, "CustomerMasterKeySpec": m.keySpec, "KeySpec": m.keySpec,
            "EncryptionAlgorithms": m.encryptionAlgorithms, "MultiRegion": m.multiRegion,
        ]
        if let date = m.deletionDate { out["DeletionDate"] = Double(date) }
        return out
    }

    static let table: [String: Handler] = [
        "CreateKey": { kms, input, region in
            let spec = try input.string("KeySpec") ?? input.string("CustomerMasterKeySpec")
            let key = try await kms.createKey(
                description: try input.string("Description") ?? "", keyUsage: try input.string("KeyUsage"),
                keySpec: spec,
                policy: try input.string("Policy"), tags: try input.tags("Tags"),
                multiRegion: try input.bool("MultiRegion"),
                region: region)
            return ["KeyMetadata": metadata(key)]
        },
        "DescribeKey": { kms, input, region in
            ["KeyMetadata": metadata(try await kms.describeKey(try input.required("KeyId"), region: region))]
        },
        "ListKeys": { kms, input, region in
            let (keys, next) = try await kms.listKeys(
                limit: try input.int("Limit"), marker: try input.string("Marker"), region: region)
            var out: [String: Any] = ["Keys": keys.map { ["KeyId": $0.0, "KeyArn": $0.1] }, "Truncated": next != nil]
            if let next { out["NextMarker"] = next }
            return out
        },
        "EnableKey": { kms, input, _ in
            try await kms.setEnabled(try input.required("KeyId"), true)
            return [:]
        },
        "DisableKey": { kms, input, _ in
            try await kms.setEnabled(try input.required("KeyId"), false)
            return [:]
        },
        "UpdateKeyDescription": { kms, input, _ in
            try await kms.updateDescription(try input.required("KeyId"), try input.required("Description"))
            return [:]
        },
        "ScheduleKeyDeletion": { kms, input, region in
            let result = try await kms.scheduleDeletion(
                try input.required("KeyId"), pendingWindowInDays: try input.int("PendingWindowInDays"), region: region)
            return [
                "KeyId": result.keyID, "DeletionDate": Double(result.deletionDate), "KeyState": "PendingDeletion",
                "PendingWindowInDays": result.days,
            ]
        },
        "CancelKeyDeletion": { kms, input, region in
            ["KeyId": try await kms.cancelDeletion(try input.required("KeyId"), region: region)]
        },
        "CreateAlias": { kms, input, _ in
            try await kms.createAlias(try input.required("AliasName"), targetKeyID: try input.required("TargetKeyId"))
            return [:]
        },
        "UpdateAlias": { kms, input, _ in
            try await kms.updateAlias(try input.required("AliasName"), targetKeyID: try input.required("TargetKeyId"))
            return [:]
        },
        "DeleteAlias": { kms, input, _ in
            try await kms.deleteAlias(try input.required("AliasName"))
            return [:]
        },
        "ListAliases": { kms, input, region in
            let (aliases, next) = try await kms.listAliases(
                keyID: try input.string("KeyId"), limit: try input.int("Limit"), marker: try input.string("Marker"))
            var out: [String: Any] = [
                "Aliases": aliases.map {
                    [
                        "AliasName": $0.name, "AliasArn": "arn:aws:kms:\(region):\(kms.accountID):\($0.name)",
                        "TargetKeyId": $0.keyID,
                        "CreationDate": Double($0.creationDate), "LastUpdatedDate": Double($0.lastUpdatedDate),
                    ] as [String: Any]
                },
                "Truncated": next != nil,
            ]
            if let next { out["NextMarker"] = next }
            return out
        },
        "TagResource": { kms, input, _ in
            try await kms.tagResource(try input.required("KeyId"), tags: try input.tags("Tags"))
            return [:]
        },
        "UntagResource": { kms, input, _ in
            try await kms.untagResource(try input.required("KeyId"), tagKeys: try input.strings("TagKeys"))
            return [:]
        },
        "ListResourceTags": { kms, input, _ in
            let tags = try await kms.listResourceTags(try input.required("KeyId"))
            return ["Tags": tags.map { ["TagKey": $0.key, "TagValue": $0.value] }, "Truncated": false]
        },
        "Encrypt": { kms, input, region in
            let result = try await kms.encrypt(
                try input.required("KeyId"), plaintext: try input.secret("Plaintext"),
                context: try input.context("EncryptionContext"),
                algorithm: try input.string("EncryptionAlgorithm"), region: region)
            return [
                "CiphertextBlob": b64(result.blob), "KeyId": result.keyARN,
                "EncryptionAlgorithm": KMSService.symmetricAlgorithm,
            ]
        },
        "Decrypt": { kms, input, region in
            let result = try await kms.decrypt(
                try input.blob("CiphertextBlob") ?? [], keyID: try input.string("KeyId"),
                context: try input.context("EncryptionContext"),
                algorithm: try input.string("EncryptionAlgorithm"), region: region)
            return [
                "Plaintext": b64(result.plaintext), "KeyId": result.keyARN,
                "EncryptionAlgorithm": KMSService.symmetricAlgorithm,
            ]
        },
        "ReEncrypt": { kms, input, region in
            let result = try await kms.reEncrypt(
                try input.blob("CiphertextBlob") ?? [], sourceKeyID: try input.string("SourceKeyId"),
                sourceContext: try input.context("SourceEncryptionContext"),
                destinationKeyID: try input.required("DestinationKeyId"),
                destinationContext: try input.context("DestinationEncryptionContext"), region: region)
            return [
                "CiphertextBlob": b64(result.ciphertext.blob), "KeyId": result.ciphertext.keyARN,
                "SourceKeyId": result.sourceKeyARN,
                "SourceEncryptionAlgorithm": KMSService.symmetricAlgorithm,
                "DestinationEncryptionAlgorithm": KMSService.symmetricAlgorithm,
            ]
        },
        "GenerateDataKey": { kms, input, region in
            let (ciphertext, plaintext) = try await kms.generateDataKey(
                try input.required("KeyId"), keySpec: try input.string("KeySpec"),
                numberOfBytes: try input.int("NumberOfBytes"),
                context: try input.context("EncryptionContext"), returnPlaintext: true, region: region)
            return [
                "CiphertextBlob": b64(ciphertext.blob), "KeyId": ciphertext.keyARN,
                "Plaintext": plaintext.map { b64($0) } ?? "",
            ]
        },
        "GenerateDataKeyWithoutPlaintext": { kms, input, region in
            let (ciphertext, _) = try await kms.generateDataKey(
                try input.required("KeyId"), keySpec: try input.string("KeySpec"),
                numberOfBytes: try input.int("NumberOfBytes"),
                context: try input.context("EncryptionContext"), returnPlaintext: false, region: region)
            return ["CiphertextBlob": b64(ciphertext.blob), "KeyId": ciphertext.keyARN]
        },
        "GenerateRandom": { kms, input, _ in
            ["Plaintext": b64(try await kms.generateRandom(numberOfBytes: try input.int("NumberOfBytes")))]
        },
        "EnableKeyRotation": { kms, input, _ in
            try await kms.enableRotation(
                try input.required("KeyId"), periodInDays: try input.int("RotationPeriodInDays"))
            return [:]
        },
        "DisableKeyRotation": { kms, input, _ in
            try await kms.disableRotation(try input.required("KeyId"))
            return [:]
        },
        "GetKeyRotationStatus": { kms, input, region in
            let keyID = try input.required("KeyId")
            let status = try await kms.rotationStatus(keyID)
            var out: [String: Any] = [
                "KeyRotationEnabled": status.enabled, "KeyId": try await kms.describeKey(keyID, region: region).arn,
            ]
            if let days = status.periodInDays { out["RotationPeriodInDays"] = days }
            if let next = status.next { out["NextRotationDate"] = Double(next) }
            return out
        },
        "RotateKeyOnDemand": { kms, input, region in
            ["KeyId": try await kms.rotateOnDemand(try input.required("KeyId"), region: region)]
        },
        "ListKeyRotations": { kms, input, region in
            let rotations = try await kms.listRotations(try input.required("KeyId"), region: region)
            return [
                "Rotations": rotations.map {
                    ["KeyId": $0.keyID, "RotationDate": Double($0.rotationDate), "RotationType": $0.rotationType]
                },
                "Truncated": false,
            ]
        },
        "GetKeyPolicy": { kms, input, _ in
            [
                "Policy": try await kms.keyPolicy(try input.required("KeyId"), name: try input.string("PolicyName")),
                "PolicyName": "default",
            ]
        },
        "PutKeyPolicy": { kms, input, _ in
            try await kms.putKeyPolicy(
                try input.required("KeyId"), name: try input.string("PolicyName"), policy: try input.required("Policy"))
            return [:]
        },
        "ListKeyPolicies": { kms, input, _ in
            _ = try await kms.keyPolicy(try input.required("KeyId"), name: nil)
            return ["PolicyNames": ["default"], "Truncated": false]
        },
    ]
}
