import CofferCrypto
import CofferKMS
import CofferStore
import CofferTestSupport
import CofferWire
import Testing

/// Multi-Region keys where time matters (the e2e suite covers the rest through boto3): a primary waits in
/// PendingReplicaDeletion until its last replica is deleted, then its own window runs; scheduled rotation
/// rotates the primary only, and the new backing key reaches every replica.
@Suite(.serialized) struct MultiRegionTests {
    static let other = "us-west-2"

    static func context(_ region: String) -> RequestContext {
        RequestContext(
            account: KMSWorld.account, region: region, principal: "arn:aws:iam::\(KMSWorld.account):root",
            accessKeyID: "AKIDTEST", requestID: "r")
    }

    @Test func aPrimaryIsDeletedOnlyAfterItsReplicas() async throws {
        let world = try await KMSWorld()
        let key = try await world.call(CreateKey.self, CreateKeyRequest(multiRegion: true)).keyMetadata!
        _ = try await world.call(ReplicateKey.self, ReplicateKeyRequest(keyId: key.keyId, replicaRegion: Self.other))
        let west = Self.context(Self.other)
        let scheduled = try await world.call(
            ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: 7))
        #expect(scheduled.keyState == .pendingReplicaDeletion && scheduled.deletionDate == nil)
        _ = try await world.call(
            ScheduleKeyDeletion.self, ScheduleKeyDeletionRequest(keyId: key.keyId, pendingWindowInDays: 7), as: west)
        world.clock.advance(7 * 86_400)
        // The replica's window has passed: this run deletes it, and the next starts the primary's window.
        #expect(try await world.kms.runScheduledWork().deleted == [key.keyId])
        #expect(
            await world.failure(DescribeKey.self, DescribeKeyRequest(keyId: key.keyId), as: west)
                == "NotFoundException")
        _ = try await world.kms.runScheduledWork()
        let primary = try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: key.keyId)).keyMetadata!
        #expect(primary.keyState == .pendingDeletion)
        #expect(primary.deletionDate == Double(world.clock.seconds + 7 * 86_400))
        #expect(primary.multiRegionConfiguration?.replicaKeys?.isEmpty == true)
        world.clock.advance(7 * 86_400)
        #expect(try await world.kms.runScheduledWork().deleted == [key.keyId])
        await world.stop()
    }

    @Test func scheduledRotationRotatesThePrimaryAndReachesItsReplicas() async throws {
        let world = try await KMSWorld()
        let key = try await world.call(CreateKey.self, CreateKeyRequest(multiRegion: true)).keyMetadata!
        _ = try await world.call(ReplicateKey.self, ReplicateKeyRequest(keyId: key.keyId, replicaRegion: Self.other))
        _ = try await world.call(
            EnableKeyRotation.self, EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: 90))
        let west = Self.context(Self.other)
        let status = try await world.call(
            GetKeyRotationStatus.self, GetKeyRotationStatusRequest(keyId: key.keyId), as: west)
        #expect(status.keyRotationEnabled == true && status.rotationPeriodInDays == 90)
        world.clock.advance(90 * 86_400)
        // One rotation, of the primary; the replica's copy of the settings is not rotated again.
        #expect(try await world.kms.runScheduledWork().rotated == [key.keyId])
        let blob = try await world.encrypt(key.keyId, [5, 6])
        let opened = try await world.call(Decrypt.self, DecryptRequest(ciphertextBlob: blob), as: west)
        #expect(opened.plaintext == SecretBytes(copying: [5, 6]))
        let rotations = try await world.call(
            ListKeyRotations.self, ListKeyRotationsRequest(keyId: key.keyId), as: west)
        #expect(rotations.rotations?.count == 1)
        #expect(try await world.kms.runScheduledWork().rotated == [])
        await world.stop()
    }
}
