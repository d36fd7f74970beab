import CofferCrypto
import CofferHSMClient
import CofferKMS
import CofferStore
import CofferTestSupport
import CofferWire
import Foundation

/// A KMS service over a real in-process HSM (over loopback), a real HSM pool and a real SQLite file.
struct KMSWorld {
    let clock = TestClock()
    let hsm: InProcessHSM
    let pool: HSMPool
    let store: SQLiteKeyStore
    let kms: KMSService
    let path: String
    static let region = "eu-west-1"
    static let account = "111122223333"

    init() async throws {
        hsm = try await InProcessHSM.start(clock: clock)
        let clock = self.clock
        pool = HSMPool(
            addresses: [hsm.address], hostID: "host-1", hostKey: hsm.hostKey, domain: hsm.state, clock: { clock.now })
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("coffer-kms-\(UUID().uuidString).sqlite").path
        store = try await SQLiteKeyStore.open(path: path)
        kms = KMSService(store: store, hsm: pool, account: Self.account, clock: { clock.seconds })
    }

    func stop() async {
        await pool.close()
        await store.close()
        hsm.stop()
        try? FileManager.default.removeItem(atPath: path)
    }

    func newKey() async throws -> KeyMetadata {
        try await kms.createKey(description: "test", region: Self.region)
    }
}

/// The KMSError code a call throws, or nil.
func kmsError(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as KMSError {
        return error.code.awsName
    } catch {
        return "\(error)"
    }
}
