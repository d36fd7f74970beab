import Benchmark
import CofferHSMClient
import CofferKMS
import CofferPolicy
import CofferStore
import CofferWire
import Foundation
import Logging

/// The HSM of a ``BenchWorld`` as the KMS service's crypto backend: each command one in-process session
/// round trip (no socket), one at a time.
final class BenchBackend: CryptoBackend, @unchecked Sendable {
    private let world = BenchWorld()
    private let lock = NSLock()

    func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult {
        lock.withLock { world.roundTrip(command) }
    }
}

/// GenerateDataKey through the whole service below HTTP and SigV4: JSON decode and validation, the key
/// read from SQLite, authorization, the HSM round trip, the JSON response. The same call without a policy
/// check (AllowAll) and with the policy authorizer shows what authorization adds (issue 10's goal: under
/// 5 %).
final class ServiceWorld: @unchecked Sendable {
    let kms: KMSService
    let keyID: String
    let body: [UInt8]
    let context: RequestContext

    init(authorizer: any Authorizer, policy: String?, identity: [PolicyDocument]) async throws {
        let store = try await SQLKeyStore.openInMemory(logger: Logger(label: "bench"))
        kms = KMSService(store: store, hsm: BenchBackend(), clock: { 1_800_000_000 }, authorizer: authorizer)
        context = RequestContext(
            account: "111122223333", region: "us-east-1", principal: "arn:aws:iam::111122223333:user/alice",
            accessKeyID: "AKIDBENCH", requestID: "bench", sourceAddress: "127.0.0.1", identityPolicies: identity)
        var create: [String: Any] = ["Description": "bench"]
        create["Policy"] = policy
        let root = RequestContext(
            account: "111122223333", region: "us-east-1", principal: "arn:aws:iam::111122223333:root",
            accessKeyID: "AKIDROOT", requestID: "setup")
        let created = try await kms.perform(
            operation: "CreateKey", body: Array(try JSONSerialization.data(withJSONObject: create)), context: root)
        guard let json = try JSONSerialization.jsonObject(with: Data(created)) as? [String: Any],
            let metadata = json["KeyMetadata"] as? [String: Any], let id = metadata["KeyId"] as? String
        else { fatalError("benchmark setup: CreateKey answered \(String(decoding: created, as: UTF8.self))") }
        keyID = id
        body = Array(#"{"KeyId":"\#(id)","KeySpec":"AES_256","EncryptionContext":{"tenant":"a"}}"#.utf8)
    }
}

let generateDataKeyBenchmarks: @Sendable () -> Void = {
    let identity = try! PolicyDocument(
        json: #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#, kind: .identityPolicy)
    let tenantPolicy =
        #"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"TenantA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}}]}"#
    let cases: [(String, @Sendable () -> any Authorizer, String?)] = [
        ("no authorization (AllowAll)", { AllowAll() }, nil),
        ("policy authorizer, default key policy delegated to an identity policy", { PolicyAuthorizer(clock: { 1_800_000_000 }) }, nil),
        ("policy authorizer, key policy with a kms:EncryptionContext condition", { PolicyAuthorizer(clock: { 1_800_000_000 }) }, tenantPolicy),
    ]
    for (name, authorizer, policy) in cases {
        Benchmark("GenerateDataKey through the service: \(name)") { benchmark, world in
            for _ in benchmark.scaledIterations {
                blackHole(try! await world.kms.perform(GenerateDataKey.self, body: world.body, context: world.context))
            }
        } setup: {
            try await ServiceWorld(authorizer: authorizer(), policy: policy, identity: [identity])
        }
    }
}
