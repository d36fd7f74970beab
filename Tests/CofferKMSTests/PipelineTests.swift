import CofferCrypto
import CofferKMS
import CofferStore
import SQLiteNIO
import Synchronization
import Testing

/// The pipeline every operation runs through: the authorization and audit hooks, dry runs, unknown and
/// unsupported operations, and seeding.
@Suite(.serialized) struct PipelineTests {
    /// Refuses one action and records every call it is asked about.
    final class Recorder: Authorizer, AuditSink {
        let refused: String
        let events = Mutex<[AuditEvent]>([])
        let asked = Mutex<[(String, String?)]>([])

        init(refusing refused: String) { self.refused = refused }

        func authorize(_ request: AuthorizationInput) async throws(KMSError) -> Decision {
            asked.withLock { $0.append((request.action, request.key?.id)) }
            guard request.action != refused else {
                return .deny(by: "test rule", message: "\(request.context.principal) may not \(request.action)")
            }
            return Decision(decidedBy: "test rule")
        }

        func record(_ event: AuditEvent) async { events.withLock { $0.append(event) } }
    }

    @Test func everyCallIsAuthorizedWithItsKeyAndAudited() async throws {
        let recorder = Recorder(refusing: "kms:ReEncryptTo")
        let world = try await KMSWorld(authorizer: recorder, audit: recorder)
        let key = try await world.newKey()
        let blob = try await world.encrypt(key.keyId, [1])
        #expect(
            await world.failure(ReEncrypt.self, ReEncryptRequest(ciphertextBlob: blob, destinationKeyId: key.keyId))
                == "AccessDeniedException")
        let asked = recorder.asked.withLock { $0 }
        #expect(asked.map(\.0) == ["kms:CreateKey", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
        #expect(asked.map(\.1) == [nil, key.keyId, key.keyId, key.keyId])
        let events = recorder.events.withLock { $0 }
        #expect(events.map(\.operation) == ["CreateKey", "Encrypt", "ReEncrypt"])
        #expect(events.map(\.errorCode) == [nil, nil, "AccessDeniedException"])
        #expect(events[1].keyARN == key.arn && events[1].decision == Decision(decidedBy: "test rule"))
        #expect(events.allSatisfy { $0.context.requestID == "request-1" })
        await world.stop()
    }

    @Test func everyCallHasOneRecordAndAChangeHasItsRecordInItsTransaction() async throws {
        // The store audit writes a changing call's record in the change's transaction, the others alone.
        let real = try await KMSWorld(auditOwnStore: true)
        let key = try await real.newKey()
        _ = try await real.encrypt(key.keyId, [1])
        _ = try await real.call(CreateAlias.self, CreateAliasRequest(aliasName: "alias/once", targetKeyId: key.keyId))
        #expect(
            await real.failure(CreateAlias.self, CreateAliasRequest(aliasName: "alias/once", targetKeyId: key.keyId))
                == "AlreadyExistsException")
        let rows = try await real.store.auditRecords(after: 0, limit: 100)
        #expect(rows.map(\.entry.operation) == ["CreateKey", "Encrypt", "CreateAlias", "CreateAlias"])
        #expect(rows.last?.entry.record.contains("AlreadyExistsException") == true)
        #expect(try await real.store.verifyAudit().isIntact)
        await real.stop()
    }

    @Test func aChangeWhoseRecordCannotBeWrittenIsNotMade() async throws {
        let world = try await KMSWorld(auditOwnStore: true)
        let key = try await world.newKey()
        // Behind the store's back the audit head goes: no record can be appended from now on.
        let connection = try await SQLiteConnection.open(storage: .file(path: world.path))
        _ = try await connection.query("DROP TABLE audit_head", [])
        try await connection.close()
        #expect(
            await world.failure(
                CreateAlias.self, CreateAliasRequest(aliasName: "alias/unrecorded", targetKeyId: key.keyId))
                == "KMSInternalException")
        #expect(try await world.store.alias(KMSWorld.context.scope, name: "alias/unrecorded") == nil)
        await world.stop()
    }

    @Test func aDryRunIsAuthorizedButChangesNothing() async throws {
        let world = try await KMSWorld()
        let key = try await world.newKey()
        #expect(
            await world.failure(
                GenerateDataKey.self, GenerateDataKeyRequest(keyId: key.keyId, keySpec: .aes256, dryRun: true))
                == "DryRunOperationException")
        #expect(KMSError.Code.dryRun.httpStatus == 412)
        // A dry run makes every check the real call makes: only the HSM's work is skipped.
        let blob = try await world.encrypt(key.keyId, [1])
        #expect(
            await world.failure(
                ReEncrypt.self,
                ReEncryptRequest(ciphertextBlob: blob, destinationKeyId: "alias/missing", dryRun: true))
                == "NotFoundException")
        #expect(
            await world.failure(
                ReEncrypt.self, ReEncryptRequest(ciphertextBlob: blob, destinationKeyId: key.keyId, dryRun: true))
                == "DryRunOperationException")
        #expect(
            await world.failure(
                Encrypt.self,
                EncryptRequest(
                    keyId: key.keyId, plaintext: SecretBytes(copying: [1]), encryptionAlgorithm: .rsaesOaepSha1,
                    dryRun: true)) == "InvalidKeyUsageException")
        #expect(
            await world.failure(Decrypt.self, DecryptRequest(ciphertextBlob: blob, dryRun: true))
                == "DryRunOperationException")
        await world.stop()
    }

    @Test func operationsAreFoundByName() async throws {
        let world = try await KMSWorld()
        let context = KMSWorld.context
        let listed = try await world.kms.perform(operation: "ListKeys", body: [], context: context)
        #expect(String(decoding: listed, as: UTF8.self) == #"{"Keys":[],"Truncated":false}"#)
        for (name, code) in [
            ("CreateCustomKeyStore", "UnsupportedOperationException"), ("Nonsense", "UnknownOperationException"),
        ] {
            do {
                _ = try await world.kms.perform(operation: name, body: [], context: context)
                Issue.record("\(name) answered")
            } catch {
                #expect(error.code.awsName == code)
            }
        }
        await world.stop()
    }

    @Test func seedingGivesTheSameIdsAndIsIdempotent() async throws {
        let world = try await KMSWorld()
        let scope = KeyScope(account: KMSWorld.account, region: KMSWorld.region)
        let seeds = [
            KeySeed(
                id: "0B8D6C1E-2F4A-4C55-9D0E-6A1F3E2B7C90", scope: scope, description: "given", aliases: ["alias/a"]),
            KeySeed(
                id: nil, scope: scope, description: "derived", aliases: ["alias/b"],
                tags: [TagRecord(key: "team", value: "x")], rotationPeriodInDays: 180, enabled: false),
        ]
        let ids = try await world.kms.seed(seeds)
        #expect(ids[0] == "0b8d6c1e-2f4a-4c55-9d0e-6a1f3e2b7c90")
        #expect(try await world.kms.seed(seeds) == ids)
        #expect(try await world.call(ListKeys.self, ListKeysRequest()).keys?.count == 2)
        let derived = try await world.call(DescribeKey.self, DescribeKeyRequest(keyId: "alias/b")).keyMetadata
        #expect(derived?.keyId == ids[1] && derived?.keyState == .disabled && derived?.description == "derived")
        #expect(try seeds[1].keyID() == ids[1])
        var elsewhere = seeds[1]
        elsewhere.scope.region = "us-east-1"
        #expect(try elsewhere.keyID() != ids[1], "the derived id depends on the scope")
        var clash = seeds[0]
        clash.id = "9b8d6c1e-2f4a-4c55-9d0e-6a1f3e2b7c90"
        await #expect(throws: KMSError.self) { _ = try await world.kms.seed([clash]) }
        try await world.kms.removeAllKeys(of: KMSWorld.account)
        #expect(try await world.call(ListKeys.self, ListKeysRequest()).keys?.isEmpty == true)
        await world.stop()
    }
}
