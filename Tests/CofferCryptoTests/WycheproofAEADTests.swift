import CofferCrypto
import CofferTestSupport
import Crypto
import Foundation
import Testing

/// `Seal`/`Open` (PROTOCOL §1) against Wycheproof AES-GCM. Coffer's Seal is AES-256 with a 96-bit IV
/// and a 128-bit tag, so only those groups apply; the others are counted as skipped with that reason.
@Suite struct WycheproofAEADTests {
    @Test func aes256GCMMatchesWycheproof() throws {
        let json = try VectorFile.load("aes_gcm_test", from: .module)
        var count = CaseCount()
        for group in try json.objects("testGroups") {
            let applies = try group.int("keySize") == 256 && group.int("ivSize") == 96 && group.int("tagSize") == 128
            for test in try group.objects("tests") {
                guard applies else {
                    count.skip("not AES-256 with a 96-bit IV and 128-bit tag (Seal cannot express it)")
                    continue
                }
                let result = try test.string("result")
                count.ran(result)
                let id = try test.int("tcId")
                let key = SymmetricKey(data: try test.hex("key"))
                let iv = try test.hex("iv")
                let aad = try test.hex("aad")
                let expected = iv + (try test.hex("ct")) + (try test.hex("tag"))
                let opened = try? AEAD.open(expected, key: key, aad: aad).withUnsafeBytes { [UInt8]($0) }
                if result == "valid" {
                    let sealed = try AEAD.seal(try test.hex("msg"), key: key, aad: aad, iv: iv)
                    #expect(sealed == expected, "tcId \(id): Seal must give IV ‖ ct ‖ tag")
                    #expect(opened == (try test.hex("msg")), "tcId \(id): Open must give the message")
                } else {
                    #expect(opened == nil, "tcId \(id) (\(result)) must not open")
                }
            }
        }
        print("aes_gcm_test: \(count)")
        #expect(count.ran == 66)
        #expect(count.valid == 39 && count.invalid == 27)
        #expect(count.total == 316)
    }

    @Test func sealUsesAFreshIVEveryTime() throws {
        let key = SymmetricKey(size: .bits256)
        let plaintext = SecretBytes(copying: [UInt8](repeating: 7, count: 32))
        let first = try AEAD.seal(plaintext, key: key, aad: [])
        let second = try AEAD.seal(plaintext, key: key, aad: [])
        #expect(first.count == 32 + AEAD.overhead)
        #expect(first.prefix(12) != second.prefix(12))
        #expect(try AEAD.open(first, key: key, aad: []) == plaintext)
    }

    @Test func everyOpenFailureIsTheSameOpaqueError() throws {
        let key = SymmetricKey(size: .bits256)
        let sealed = try AEAD.seal([1, 2, 3], key: key, aad: [9])
        var flipped = sealed
        flipped[13] ^= 1
        let opaque = CofferCryptoError(.authenticationFailed)
        #expect(throws: opaque) { try AEAD.open(sealed, key: key, aad: [8]) }
        #expect(throws: opaque) { try AEAD.open(flipped, key: key, aad: [9]) }
        #expect(throws: opaque) { try AEAD.open(sealed.prefix(27), key: key, aad: [9]) }
        #expect(throws: opaque) { try AEAD.open(sealed, key: SymmetricKey(size: .bits256), aad: [9]) }
        #expect(throws: opaque) { try AEAD.open(sealed, key: SymmetricKey(size: .bits128), aad: [9]) }
    }
}
