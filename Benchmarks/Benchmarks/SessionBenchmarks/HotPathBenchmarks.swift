import Benchmark
import CofferCrypto
import CofferJSON
import CofferKMS
import CofferServer
import CofferStore
import Foundation
import Logging

/// The pieces of a request's hot path outside the HSM, each alone (issue 12): SigV4 verification of a
/// request signed as an AWS SDK signs it, the JSON decode of Encrypt and GenerateDataKey requests and the
/// encode of a GenerateDataKey response, and the store reads of a cryptographic request (the key record
/// and its backing keys) from SQLite.
enum HotPath {
    static let secret = "bench-secret-access-key"
    /// 2027-01-15T08:00:00Z, the signed request's date.
    static let now: Int64 = 1_800_000_000

    /// A GenerateDataKey request signed with SigV4 at `now`.
    static func signedRequest() -> SigV4Request {
        let stamp = "20270115T080000Z"
        let body = Array(#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","KeySpec":"AES_256"}"#.utf8)
        let headers: [(name: String, value: String)] = [
            ("Host", "127.0.0.1:4599"), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Date", stamp),
            ("X-Amz-Target", "TrentService.GenerateDataKey"),
        ]
        var request = SigV4Request(method: "POST", path: "/", query: "", headers: headers, body: body)
        let signed = ["content-type", "host", "x-amz-date", "x-amz-target"]
        let scope = "20270115/us-east-1/kms/aws4_request"
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: signed, payloadHash: SigV4.payloadHash(request.body))
        let key = SigV4.signingKey(
            secret: SecretBytes(copying: Array(secret.utf8)), day: "20270115", region: "us-east-1", service: "kms")
        let signature = SigV4.signature(
            stringToSign: SigV4.stringToSign(canonicalRequest: canonical, date: stamp, scope: scope), key: key)
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDBENCH/\(scope), SignedHeaders=\(signed.joined(separator: ";")), "
                    + "Signature=\(signature)"
            ))
        return request
    }
}

/// A verifier with its signing key already kept, and the request it verifies.
struct SigV4World: Sendable {
    let verifier: SigV4Verifier
    let request: SigV4Request
}

/// A SQLite store (in memory) holding one key with one backing key.
final class StoreWorld: @unchecked Sendable {
    let store: SQLKeyStore
    let scope = KeyScope(account: "111122223333", region: "us-east-1")
    let keyID: String

    init() async throws {
        store = try await SQLKeyStore.openInMemory(logger: Logger(label: "bench"))
        let kms = KMSService(store: store, hsm: BenchBackend(), clock: { HotPath.now })
        let root = RequestContext(
            account: scope.account, region: scope.region, principal: "arn:aws:iam::111122223333:root",
            accessKeyID: "AKIDROOT", requestID: "setup")
        let created = try await kms.perform(operation: "CreateKey", body: Array("{}".utf8), context: root)
        guard let json = try JSONSerialization.jsonObject(with: Data(created)) as? [String: Any],
            let metadata = json["KeyMetadata"] as? [String: Any], let id = metadata["KeyId"] as? String
        else { fatalError("benchmark setup: CreateKey answered \(String(decoding: created, as: UTF8.self))") }
        keyID = id
    }
}

let hotPathBenchmarks: @Sendable () -> Void = {
    // One verifier for the whole run, as a host has: its signing key is derived by the first request and
    // kept (a verifier made per sample measured the four-HMAC derivation every time).
    Benchmark("SigV4: verify a signed GenerateDataKey request") { benchmark, world in
        for _ in benchmark.scaledIterations {
            blackHole(try? world.verifier.verify(world.request, now: HotPath.now))
        }
    } setup: { () -> SigV4World in
        let verifier = SigV4Verifier(service: "kms") { id in
            id == "AKIDBENCH"
                ? .init(secret: SecretBytes(copying: Array(HotPath.secret.utf8)), account: "111122223333") : nil
        }
        let request = HotPath.signedRequest()
        _ = try? verifier.verify(request, now: HotPath.now)
        return SigV4World(verifier: verifier, request: request)
    }

    let encryptBody = Array(
        #"{"KeyId":"alias/app","Plaintext":"SGVsbG8sIENvZmZlciEgMzIgYnl0ZXMgb2YgZGF0YS4=","EncryptionContext":{"tenant":"a","purpose":"bench"}}"#
            .utf8)
    Benchmark("JSON: decode and validate an Encrypt request") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? EncryptRequest(json: encryptBody))
        }
    }
    let dataKeyBody = Array(
        #"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","KeySpec":"AES_256","EncryptionContext":{"tenant":"a"}}"#
            .utf8)
    Benchmark("JSON: decode and validate a GenerateDataKey request") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? GenerateDataKeyRequest(json: dataKeyBody))
        }
    }
    Benchmark("JSON: encode a GenerateDataKey response") { benchmark in
        let response = GenerateDataKeyResponse(
            ciphertextBlob: [UInt8](repeating: 0xAB, count: 184),
            plaintext: SecretBytes(copying: [UInt8](repeating: 1, count: 32)),
            keyId: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        for _ in benchmark.scaledIterations {
            var writer = JSONWriter()
            response.write(to: &writer)
            blackHole(writer.bytes)
        }
    }

    Benchmark("Store: read a key and its backing keys (SQLite in memory)") { benchmark, world in
        for _ in benchmark.scaledIterations {
            let record = try? await world.store.key(world.scope, id: world.keyID)
            blackHole(record)
            blackHole(try? await world.store.backingKeys(world.scope, of: world.keyID))
        }
    } setup: {
        try await StoreWorld()
    }

    // A call that changes nothing appends its record alone when no other waits (a batch of one: the case
    // of a lone client), a record about the size of a GenerateDataKey's.
    Benchmark("Store: append one audit record alone (SQLite in memory, 1 KB)") { benchmark, world in
        let arn = "arn:aws:kms:us-east-1:111122223333:key/\(world.keyID)"
        let record =
            #"{"eventVersion":"1.08","requestParameters":{"keySpec":"AES_256"}}"#
            + String(repeating: " ", count: 950)
        for _ in benchmark.scaledIterations {
            let entry = AuditEntry(
                time: HotPath.now, eventID: RandomUUID.lowercased(), keyARN: arn, operation: "GenerateDataKey",
                record: record)
            blackHole(try await world.store.appendAudit(entry))
        }
    } setup: {
        try await StoreWorld()
    }

    // Eight calls' records that arrive together: one transaction (AuditBatch), timed per record.
    Benchmark(
        "Store: append eight audit records together, per record (SQLite in memory, 1 KB)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark, world in
        let arn = "arn:aws:kms:us-east-1:111122223333:key/\(world.keyID)"
        let record =
            #"{"eventVersion":"1.08","requestParameters":{"keySpec":"AES_256"}}"#
            + String(repeating: " ", count: 950)
        for _ in 0..<(benchmark.scaledIterations.count / 8) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let entry = AuditEntry(
                            time: HotPath.now, eventID: RandomUUID.lowercased(), keyARN: arn,
                            operation: "GenerateDataKey", record: record)
                        blackHole(try await world.store.appendAudit(entry))
                    }
                }
                try await group.waitForAll()
            }
        }
    } setup: {
        try await StoreWorld()
    }
}
