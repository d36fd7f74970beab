import CofferCrypto
import CofferKMS
import CofferServer
import CofferStore
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Logging
import Testing

/// Principals with HSM-sealed secrets: the day key an HSM derives is the SigV4 `kDate` of the secret
/// printed once, for secrets of every length; the store never holds the secret; a token moved to another
/// access key, a removed principal and a rotated key stop authenticating.
@Suite struct PrincipalTests {
    static let day = "20261203"

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
        let caller = try #require(try await directory.caller(accessKeyID: "AKIDALICE", day: Self.day))
        #expect(caller.dateKey == SigV4.dateKey(secret: bytes, day: Self.day))
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
        #expect(try await directory.caller(accessKeyID: bob.accessKeyID, day: Self.day)?.identityPolicies.count == 1)
        #expect(try await directory.caller(accessKeyID: "AKIANOBODY", day: Self.day) == nil)

        // A token copied into another access key's row is bound to its own id: it authenticates no one.
        let bobs = try #require(try await world.store.accessKey(bob.accessKeyID))
        try await world.store.replaceAccessKeys(
            of: alice.arn,
            adding: AccessKeyRecord(
                accessKeyID: "AKIAMOVED", principalARN: alice.arn, token: bobs.key.token, creationDate: 0),
            removing: [])
        #expect(try await directory.caller(accessKeyID: "AKIAMOVED", day: Self.day) == nil)

        // Rotation: the new key works at once, the old one once the cached record is older than the bound.
        #expect(try await directory.caller(accessKeyID: alice.accessKeyID, day: Self.day) != nil)
        let rotated = try await world.kms.rotateAccessKey(of: alice.arn)
        #expect(try await directory.caller(accessKeyID: rotated.accessKeyID, day: Self.day) != nil)
        world.clock.advance(PrincipalDirectory.refreshInterval)
        #expect(try await directory.caller(accessKeyID: alice.accessKeyID, day: Self.day) == nil)
        #expect(try await directory.caller(accessKeyID: "AKIAMOVED", day: Self.day) == nil)

        try await world.kms.removePrincipal(bob.arn)
        world.clock.advance(PrincipalDirectory.refreshInterval)
        #expect(try await directory.caller(accessKeyID: bob.accessKeyID, day: Self.day) == nil)
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
}
