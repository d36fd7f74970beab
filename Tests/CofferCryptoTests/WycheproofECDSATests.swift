import CofferCrypto
import CofferTestSupport
import Crypto
import Foundation
import Testing

/// The ECDSA P-384 / SHA-384 layer under `Sign(d, label, m)` (PROTOCOL §1), against Wycheproof:
/// valid signatures verify, invalid ones (BER, malleated encodings, wrong values) do not.
@Suite struct WycheproofECDSATests {
    @Test func ecdsaP384VerifiesExactlyTheWycheproofValidSignatures() throws {
        let json = try VectorFile.load("ecdsa_secp384r1_sha384_test", from: .module)
        var count = CaseCount()
        for group in try json.objects("testGroups") {
            let key = try P384PublicKey(spki: try group.hex("publicKeyDer"))
            for test in try group.objects("tests") {
                let result = try test.string("result")
                let id = try test.int("tcId")
                count.ran(result)
                let verdict = Signing.isValidECDSA(try test.hex("sig"), over: try test.hex("msg"), by: key.signingKey)
                switch result {
                case "valid": #expect(verdict, "tcId \(id) must verify")
                case "invalid": #expect(!verdict, "tcId \(id) must not verify")
                default:
                    // Coffer accepts only strict DER of at most 104 bytes; any acceptable case is refused.
                    #expect(!verdict, "tcId \(id) (acceptable) is refused by Coffer")
                }
            }
        }
        print("ecdsa_secp384r1_sha384_test: \(count)")
        #expect(count.ran == 504)
    }

    @Test func signatureWithOneLabelDoesNotVerifyUnderAnother() throws {
        let key = P384.Signing.PrivateKey()
        let message: [UInt8] = Array("the same message".utf8)
        let signature = try Signing.sign(message, label: .quorumCommand, with: key)
        let publicKey = P384PublicKey(key.publicKey)
        #expect(signature.count <= Signing.maximumSignatureLength)
        #expect(Signing.isValid(signature, over: message, label: .quorumCommand, by: publicKey))
        for other in Label.all where other != .quorumCommand {
            #expect(!Signing.isValid(signature, over: message, label: other, by: publicKey))
        }
        #expect(!Signing.isValidECDSA(signature, over: message, by: key.publicKey))
    }

    @Test func signatureWithATrailingByteIsRefused() throws {
        let key = P384.Signing.PrivateKey()
        let signature = try Signing.sign([1, 2, 3], label: .sessionInit, with: key)
        #expect(
            !Signing.isValid(signature + [0], over: [1, 2, 3], label: .sessionInit, by: P384PublicKey(key.publicKey)))
    }
}
