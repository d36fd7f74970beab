import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// protocol.json's `ciphertextBlob`: the §8 blob layout, DEK, canonical context and AAD for 8 cases,
/// and 10 altered blobs or contexts that must not decrypt.
@Suite struct CiphertextBlobVectorTests {
    @Test func blobsMatchAndOpenOnlyUnderTheirContext() throws {
        let section = try ProtocolVectors.load().section("ciphertextBlob")
        var ran = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let context = try EncryptionContext(try test.context("contextInput"))
            #expect(context.pairs == (try test.context("contextSorted")), "tcId \(id) sorted by UTF-8 bytes")
            #expect(context.derBytes == (try test.hex("encryptionContextDer")), "tcId \(id)")
            #expect(context.canonicalBytes == (try test.hex("canonicalContext")), "tcId \(id)")
            let hbk = SymmetricKey(data: try test.hex("HBK"))
            let keyID = try test.hex("keyID")
            let nonce = try test.hex("N")
            #expect(
                SecretBytes(try DeriveDEK.derive(backingKey: hbk, nonce: nonce, keyID: keyID))
                    == SecretBytes(copying: try test.hex("DEK")))
            let blob = try CiphertextBlob.seal(
                try test.hex("plaintext"), backingKey: hbk, keyID: keyID, backingKeyID: try test.hex("backingKeyID"),
                context: context, nonce: nonce, iv: try test.hex("IV"))
            #expect(blob.bytes == (try test.hex("blob")), "tcId \(id)")
            #expect(blob.header + context.canonicalBytes == (try test.hex("aad")), "tcId \(id)")
            let parsed = try CiphertextBlob(bytes: try test.hex("blob"))
            #expect(
                try parsed.open(backingKey: hbk, context: context) == SecretBytes(copying: try test.hex("plaintext")))
            #expect(try EncryptionContext(derEncoded: context.derBytes) == context)
            ran += 1
        }
        let tests = try section.objects("tests")
        var negatives = 0
        for negative in try section.objects("negative") {
            let from = try #require(tests.first { (try? $0.int("tcId")) == (try? negative.int("fromTcId")) })
            let hbk = SymmetricKey(data: try from.hex("HBK"))
            let comment = try negative.string("comment")
            let opened: SecretBytes? = try? {
                let blob = try CiphertextBlob(bytes: try negative.hex("blob"))
                return try blob.open(backingKey: hbk, context: try EncryptionContext(try negative.context("context")))
            }()
            #expect(opened == nil, "\(comment) must not decrypt")
            negatives += 1
        }
        print("ciphertextBlob: ran \(ran) cases and \(negatives) negatives")
        #expect(ran == 8 && negatives == 10)
    }

    @Test func blobLengthLimitsAreEnforced() throws {
        let hbk = SymmetricKey(size: .bits256)
        let id = [UInt8](repeating: 1, count: 16)
        let smallest = try CiphertextBlob.seal(
            SecretBytes(copying: [1]), backingKey: hbk, keyID: id, backingKeyID: id,
            context: .empty)
        #expect(smallest.bytes.count == 78)
        let largest = try CiphertextBlob.seal(
            SecretBytes(copying: [UInt8](repeating: 2, count: 4096)), backingKey: hbk,
            keyID: id, backingKeyID: id, context: .empty)
        #expect(largest.bytes.count == 4173)
        #expect(throws: WireError.self) { try CiphertextBlob(bytes: smallest.bytes.dropLast()) }
        #expect(throws: WireError.self) { try CiphertextBlob(bytes: largest.bytes + [0]) }
        #expect(throws: CofferCryptoError.self) {
            try CiphertextBlob.seal(
                SecretBytes(copying: [UInt8](repeating: 2, count: 4097)), backingKey: hbk,
                keyID: id, backingKeyID: id, context: .empty)
        }
        var wrongVersion = smallest.bytes
        wrongVersion[0] = 2
        #expect(throws: WireError.self) { try CiphertextBlob(bytes: wrongVersion) }
    }
}
