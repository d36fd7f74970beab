import CofferCrypto
import CofferTestSupport
import Crypto
import Foundation
import Testing

/// `KDF` (SP 800-56C one-step) and `DeriveDEK` (SP 800-108 counter mode) against `coffer/kdf.json`.
@Suite struct KDFVectorTests {
    @Test func oneStepKDFMatchesFixedInfoAndOutput() throws {
        let section = try VectorFile.load("kdf", from: .module).object("oneStepKdf")
        var ran = 0
        var chains = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let (alg, u, v, extra) = (try test.hex("alg"), try test.hex("U"), try test.hex("V"), try test.hex("extra"))
            #expect(
                OneStepKDF.fixedInfo(algorithm: alg, partyU: u, partyV: v, extra: extra) == (try test.hex("fixedInfo")),
                "tcId \(id) FixedInfo")
            let z = SecretBytes(copying: try test.hex("Z"))
            let key = OneStepKDF.derive(sharedSecret: z, algorithm: alg, partyU: u, partyV: v, extra: extra)
            #expect(SecretBytes(key) == SecretBytes(copying: try test.hex("output")), "tcId \(id) output")
            if let ecdh = test["ecdh"] as? [String: Any] {
                // The ECDH → KDF chain end to end, from both sides.
                let a = try ECDH.privateKey(scalar: try ecdh.hex("privateA"))
                let b = try ECDH.privateKey(scalar: try ecdh.hex("privateB"))
                let publicB = try P384PublicKey(spki: try ecdh.hex("publicBSpki"))
                let publicA = try P384PublicKey(spki: try ecdh.hex("publicASpki"))
                #expect(Array(publicB.x963) == (try ecdh.hex("publicB")))
                #expect(try ECDH.sharedSecret(a, publicB) == z, "tcId \(id) Z from A's side")
                #expect(try ECDH.sharedSecret(b, publicA) == z, "tcId \(id) Z from B's side")
                chains += 1
            }
            ran += 1
        }
        print("oneStepKdf: ran \(ran) cases, \(chains) with the ECDH chain")
        #expect(ran == 12 && chains == 3)
    }

    @Test func deriveDEKMatchesPRFInputAndOutput() throws {
        let section = try VectorFile.load("kdf", from: .module).object("kbkdfCounter")
        var ran = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let (nonce, keyID) = (try test.hex("N"), try test.hex("keyID"))
            #expect(
                DeriveDEK.prfInput(nonce: nonce, keyID: keyID) == (try test.hex("prfInput")), "tcId \(id) PRF input")
            let dek = try DeriveDEK.derive(
                backingKey: SymmetricKey(data: try test.hex("key")), nonce: nonce, keyID: keyID)
            #expect(SecretBytes(dek) == SecretBytes(copying: try test.hex("output")), "tcId \(id) DEK")
            ran += 1
        }
        print("kbkdfCounter: ran \(ran) cases")
        #expect(ran == 11)
    }

    @Test func deriveDEKRefusesWrongLengths() {
        let key = SymmetricKey(size: .bits256)
        #expect(throws: CofferCryptoError(.invalidLength)) {
            try DeriveDEK.derive(
                backingKey: key, nonce: [UInt8](repeating: 0, count: 15), keyID: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: CofferCryptoError(.invalidLength)) {
            try DeriveDEK.derive(
                backingKey: SymmetricKey(size: .bits128), nonce: [UInt8](repeating: 0, count: 16),
                keyID: [UInt8](repeating: 0, count: 16))
        }
    }

    @Test func partyInfoIsLengthPrefixedIDAndSPKI() throws {
        let key = P384PublicKey(P384.KeyAgreement.PrivateKey().publicKey)
        let info = OneStepKDF.partyInfo(id: "host-1", publicKey: key)
        #expect(info.count == 134)
        #expect(Array(info.prefix(10)) == [0, 0, 0, 6] + Array("host-1".utf8))
        #expect(Array(info[10..<14]) == [0, 0, 0, 0x78])
    }
}
