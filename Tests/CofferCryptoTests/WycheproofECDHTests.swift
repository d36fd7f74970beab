import CofferCrypto
import CofferTestSupport
import Foundation
import Testing

/// PROTOCOL §1 `ECDH(d, Q)` with full public-key validation, against Wycheproof secp384r1.
///
/// Coffer's choice for `acceptable` cases: its parser takes only the 120-byte named-curve SPKI with an
/// uncompressed point (PROTOCOL §1), so every acceptable case (non-strict ASN.1, explicit curve
/// parameters, compressed points) must be *rejected*; the test asserts that.
@Suite struct WycheproofECDHTests {
    @Test func ecdhWithSubjectPublicKeyInfoMatchesWycheproof() throws {
        let count = try run(file: "ecdh_secp384r1_test") { try P384PublicKey(spki: $0) }
        print("ecdh_secp384r1_test: \(count)")
        #expect(count.ran == 1047)
    }

    @Test func ecdhWithBarePointsMatchesWycheproof() throws {
        let count = try run(file: "ecdh_secp384r1_ecpoint_test") { try P384PublicKey(x963: $0) }
        print("ecdh_secp384r1_ecpoint_test: \(count)")
        #expect(count.ran == 790)
    }

    private func run(file: String, parse: ([UInt8]) throws -> P384PublicKey) throws -> CaseCount {
        let json = try VectorFile.load(file, from: .module)
        var count = CaseCount()
        for group in try json.objects("testGroups") {
            for test in try group.objects("tests") {
                let result = try test.string("result")
                let id = try test.int("tcId")
                count.ran(result)
                let outcome: [UInt8]? = try? {
                    let peer = try parse(try test.hex("public"))
                    let key = try ECDH.privateKey(scalar: try test.hex("private"))
                    return try ECDH.sharedSecret(key, peer).withUnsafeBytes { [UInt8]($0) }
                }()
                switch result {
                case "valid":
                    #expect(outcome == (try test.hex("shared")), "\(file) tcId \(id) must agree")
                default:
                    #expect(outcome == nil, "\(file) tcId \(id) (\(result)) must be refused")
                }
            }
        }
        return count
    }
}
