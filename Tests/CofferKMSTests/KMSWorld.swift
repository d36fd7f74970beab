import CofferCrypto
import CofferHSMClient
import CofferKMS
import CofferStore
import CofferTestSupport
import CofferWire
import Foundation
import Logging

/// A KMS service over a real in-process HSM (over loopback), a real HSM pool and a real SQLite file,
/// called the way the endpoint calls it: typed requests through ``KMSService/perform(_:body:context:)``.
struct KMSWorld {
    let clock = TestClock()
    let hsm: InProcessHSM
    let pool: HSMPool
    let store: SQLKeyStore
    let kms: KMSService
    let path: String
    static let region = "eu-west-1"
    static let account = "111122223333"
    static let context = RequestContext(
        account: account, region: region, principal: "arn:aws:iam::\(account):root", accessKeyID: "AKIDTEST",
        requestID: "request-1")

    /// A world whose calls are audited into its own store (``StoreAudit``) when `auditOwnStore`.
    init(
        authorizer: any Authorizer = AllowAll(), audit: any AuditSink = NoAudit(), auditOwnStore: Bool = false
    ) async throws {
        hsm = try await InProcessHSM.start(clock: clock)
        let clock = self.clock
        pool = HSMPool(
            addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state, clock: { clock.now })
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("coffer-kms-\(UUID().uuidString).sqlite").path
        store = try await SQLKeyStore.open(
            path: path, legacyScope: KeyScope(account: Self.account, region: Self.region))
        let sink: any AuditSink =
            auditOwnStore ? StoreAudit(store: store, clock: { clock.seconds }, logger: Logger(label: "test")) : audit
        kms = KMSService(
            store: store, hsm: pool, clock: { clock.seconds }, authorizer: authorizer, audit: sink)
    }

    func stop() async {
        await pool.close()
        await store.close()
        hsm.stop()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `operation` with `input` as a caller of `context` and reads its response.
    func call<Operation: KMSOperation>(
        _ operation: Operation.Type, _ input: Operation.Input, as context: RequestContext = KMSWorld.context
    ) async throws -> Operation.Output {
        let body = try await kms.perform(operation, body: input.json, context: context)
        return try Operation.Output(json: body)
    }

    /// The AWS error name `operation` answers `input` with, or nil when it succeeds.
    func failure<Operation: KMSOperation>(
        _ operation: Operation.Type, _ input: Operation.Input, as context: RequestContext = KMSWorld.context
    ) async -> String? {
        do {
            _ = try await kms.perform(operation, body: input.json, context: context)
            return nil
        } catch {
            return error.code.awsName
        }
    }

    func newKey(description: String = "test") async throws -> KeyMetadata {
        try await call(CreateKey.self, CreateKeyRequest(description: description)).keyMetadata!
    }

    func encrypt(_ keyID: String, _ bytes: [UInt8], context: [(String, String)] = []) async throws -> [UInt8] {
        let request = EncryptRequest(
            keyId: keyID, plaintext: SecretBytes(copying: bytes),
            encryptionContext: StringPairs(context.map { (key: $0.0, value: $0.1) }))
        return try await call(Encrypt.self, request).ciphertextBlob!
    }

    func decrypt(_ blob: [UInt8], context: [(String, String)] = []) async throws -> SecretBytes {
        let request = DecryptRequest(
            ciphertextBlob: blob, encryptionContext: StringPairs(context.map { (key: $0.0, value: $0.1) }))
        return try await call(Decrypt.self, request).plaintext!
    }
}
