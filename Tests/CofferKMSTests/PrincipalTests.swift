import CofferCrypto
import CofferKMS
import CofferPolicy
import CofferServer
import CofferStore
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Logging
import SQLiteNIO
import Testing

/// Principals with HSM-sealed secrets: the day key an HSM derives is the SigV4 `kDate` of the secret
/// printed once, for secrets of every length; the store never holds the secret; a token moved to another
/// access key, a removed principal and a rotated key stop authenticating.
@Suite struct PrincipalTests {
    /// The day of the world's clock (the HSM derives day keys for days around its clock only).
    static func day(_ world: KMSWorld) -> String {
        String(decoding: world.clock.now.generalizedTimeBytes.prefix(8), as: UTF8.self)
    }

    @Test(arguments: [
        "a", "test", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", String(repeating: "s", count: 61),
        String(repeating: "x", count: 128),
    ])
    func theSealedKeyGivesTheSigV4DayKeyOfAnySecret(secret: String) async throws {
        let world = try await KMSWorld()
        let bytes = SecretBytes(copying: Array(secret.utf8))
        let issued = try await world.kms.addPrincipal(
            name: "alice", kind: .user, account: KMSWorld.account, policy: nil, accessKey: ("AKIDALICE", bytes))
        #expect(issued.arn == "arn:aws:iam::111122223333:user/alice")
        let directory = PrincipalDirectory(kms: world.kms, logger: Logger(label: "test"))
        let caller = try #require(try await directory.caller(accessKeyID: "AKIDALICE", day: Self.day(world)))
        #expect(caller.dateKey == SigV4.dateKey(secret: bytes, day: Self.day(world)))
        #expect(caller.principal == issued.arn)
        // The store holds a token, never the secret (a secret of a few bytes may occur in any ciphertext).
        let stored = try #require(try await world.store.accessKey("AKIDALICE"))
        if secret.count >= 8 { #expect(!stored.key.token.contains(Array(secret.utf8))) }
        await world.stop()
    }

    @Test func generatedKeysHaveAWSShapes() {
        let (id, secret) = AccessKeySecrets.generate()
        #expect(id.hasPrefix("AKIA") && id.count == 20 && AccessKeySecrets.isAccessKeyID(id))
        #expect(secret.count == AccessKeySecrets.secretLength && AccessKeySecrets.isSecret(secret))
        #expect(!AccessKeySecrets.isAccessKeyID("AKIA-1") && !AccessKeySecrets.isAccessKeyID(""))
        #expect(!AccessKeySecrets.isSecret(SecretBytes(copying: Array("has space".utf8))))
    }

    @Test func removedRotatedAndMovedKeysStopAuthenticating() async throws {
        let world = try await KMSWorld()
        let directory = PrincipalDirectory(kms: world.kms, logger: Logger(label: "test"))
        let alice = try await world.kms.addPrincipal(
            name: "alice", kind: .user, account: KMSWorld.account, policy: nil)
        let bob = try await world.kms.addPrincipal(
            name: "bob", kind: .role, account: KMSWorld.account,
            policy: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#)
        #expect(bob.arn == "arn:aws:iam::111122223333:role/bob")
        #expect(
            try await directory.caller(accessKeyID: bob.accessKeyID, day: Self.day(world))?.identityPolicies.count == 1)
        #expect(try await directory.caller(accessKeyID: "AKIANOBODY", day: Self.day(world)) == nil)

        // A token copied into another access key's row is bound to its own id: it authenticates no one.
        let bobs = try #require(try await world.store.accessKey(bob.accessKeyID))
        try await world.store.replaceAccessKeys(
            of: alice.arn,
            adding: AccessKeyRecord(
                accessKeyID: "AKIAMOVED", principalARN: alice.arn, token: bobs.key.token, creationDate: 0),
            removing: [])
        #expect(try await directory.caller(accessKeyID: "AKIAMOVED", day: Self.day(world)) == nil)

        // Rotation: the new key works at once, the old one once the cached record is older than the bound.
        #expect(try await directory.caller(accessKeyID: alice.accessKeyID, day: Self.day(world)) != nil)
        let rotated = try await world.kms.rotateAccessKey(of: alice.arn)
        #expect(try await directory.caller(accessKeyID: rotated.accessKeyID, day: Self.day(world)) != nil)
        world.clock.advance(PrincipalDirectory.refreshInterval)
        #expect(try await directory.caller(accessKeyID: alice.accessKeyID, day: Self.day(world)) == nil)
        #expect(try await directory.caller(accessKeyID: "AKIAMOVED", day: Self.day(world)) == nil)

        try await world.kms.removePrincipal(bob.arn)
        world.clock.advance(PrincipalDirectory.refreshInterval)
        #expect(try await directory.caller(accessKeyID: bob.accessKeyID, day: Self.day(world)) == nil)
        await world.stop()
    }

    @Test func badNamesPoliciesAndDuplicatesAreRefused() async throws {
        let world = try await KMSWorld()
        func code(_ body: () async throws -> Void) async -> String? {
            do {
                try await body()
                return nil
            } catch let error as KMSError {
                return error.code.awsName
            } catch {
                return "\(error)"
            }
        }
        let account = KMSWorld.account
        #expect(
            await code { _ = try await world.kms.addPrincipal(name: "a/b", kind: .user, account: account, policy: nil) }
                == "ValidationException")
        #expect(
            await code {
                _ = try await world.kms.addPrincipal(
                    name: String(repeating: "a", count: 65), kind: .user, account: account, policy: nil)
            } == "ValidationException")
        #expect(
            await code { _ = try await world.kms.addPrincipal(name: "a", kind: .user, account: "12", policy: nil) }
                == "ValidationException")
        #expect(
            await code {
                _ = try await world.kms.addPrincipal(name: "root", kind: .root, account: account, policy: "{}")
            } == "ValidationException")
        #expect(
            await code { _ = try await world.kms.addPrincipal(name: "a", kind: .user, account: account, policy: "{") }
                == "MalformedPolicyDocumentException")
        #expect(
            await code {
                _ = try await world.kms.addPrincipal(
                    name: "a", kind: .user, account: account, policy: nil,
                    accessKey: ("AKID A", SecretBytes(copying: [0x41])))
            } == "ValidationException")
        #expect(
            await code { _ = try await world.kms.addPrincipal(name: "a", kind: .user, account: account, policy: nil) }
                == nil)
        #expect(
            await code { _ = try await world.kms.addPrincipal(name: "a", kind: .user, account: account, policy: nil) }
                == "AlreadyExistsException")
        #expect(
            await code { _ = try await world.kms.rotateAccessKey(of: "arn:aws:iam::111122223333:user/none") }
                == "NotFoundException")
        let root = try await world.kms.addPrincipal(name: "ignored", kind: .root, account: account, policy: nil)
        #expect(root.arn == "arn:aws:iam::111122223333:root")
        // Listed by ARN (`…:root` before `…:user/a`), never with a secret.
        #expect(try await world.kms.listPrincipals().map(\.principal.name) == ["root", "a"])
        await world.stop()
    }

    @Test func limitsAreThoseDocumented() async throws {
        let world = try await KMSWorld()
        let account = KMSWorld.account
        func attempt(_ name: String, _ id: String, _ secret: Int) async -> Bool {
            (try? await world.kms.addPrincipal(
                name: name, kind: .user, account: account, policy: nil,
                accessKey: (id, SecretBytes(copying: [UInt8](repeating: 0x61, count: secret))))) != nil
        }
        #expect(await attempt(String(repeating: "n", count: 64), String(repeating: "A", count: 128), 128))
        #expect(!(await attempt("b", String(repeating: "B", count: 129), 40)))
        #expect(!(await attempt("c", "AKIDC", 129)))
        #expect(!(await attempt("d", "AKIDD", 0)))
        #expect(await attempt("e", "E", 1))
        await world.stop()
    }

    @Test func tamperedRowsAuthenticateNoOneAndAnUnreadablePolicyDeniesEverything() async throws {
        let world = try await KMSWorld()
        let directory = PrincipalDirectory(kms: world.kms, logger: Logger(label: "test"))
        let account = KMSWorld.account
        let alice = try await world.kms.addPrincipal(
            name: "alice", kind: .user, account: account,
            policy: #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#)
        _ = try await world.kms.addPrincipal(name: "root", kind: .root, account: account, policy: nil)
        #expect(
            AccessKeySecrets.binding(accessKeyID: "A", principal: alice.arn)
                != AccessKeySecrets.binding(accessKeyID: "A", principal: "arn:aws:iam::\(account):root"))
        // Behind the store's back: alice's policy is made unreadable, and a second key of alice's is
        // pointed at the account root.
        _ = try await world.kms.rotateAccessKey(of: alice.arn, keepingOld: true)
        let keys = try await world.store.accessKeys(of: alice.arn).map(\.accessKeyID)
        let connection = try await SQLiteConnection.open(storage: .file(path: world.path))
        _ = try await connection.query(
            "UPDATE principals SET policy = '{\"Statement\": [' WHERE arn = ?", [.text(alice.arn)])
        _ = try await connection.query(
            "UPDATE access_keys SET principal_arn = ? WHERE access_key_id = ?",
            [.text("arn:aws:iam::\(account):root"), .text(keys[1])])
        try await connection.close()
        #expect(try await directory.caller(accessKeyID: keys[1], day: Self.day(world)) == nil)
        let caller = try #require(try await directory.caller(accessKeyID: keys[0], day: Self.day(world)))
        let decision = PolicyEvaluator.evaluate(
            AuthorizationRequest(action: "kms:Encrypt", principal: alice.arn, account: account, resource: "*"),
            keyPolicy: nil, identityPolicies: caller.identityPolicies)
        #expect(decision == .explicitDeny(by: #"identity policy 1 statement "UnreadableIdentityPolicy""#))
        await world.stop()
    }
}
