import CofferCrypto
import CofferTestSupport
import CofferWire
import Testing

/// `Sign(d, label, m)` framing against protocol.json's `sign` section: the to-be-signed bytes and the
/// reference signatures for every signing label, and the negatives (no label, no separator, another
/// label, another key, BER, trailing byte) that must fail.
@Suite struct SignatureLabelVectorTests {
    @Test func toBeSignedBytesAndSignaturesMatchForEveryLabel() throws {
        let vectors = try ProtocolVectors.load()
        let section = try vectors.section("sign")
        var ran = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let label = try #require(Label.all.first { $0.bytes == (try? test.hex("label")) }, "tcId \(id) label")
            let message = try test.hex("message")
            #expect(Signing.toBeSigned(label: label, message: message) == (try test.hex("toBeSigned")), "tcId \(id)")
            #expect(Hash.h(Signing.toBeSigned(label: label, message: message)) == (try test.hex("sha384OfToBeSigned")))
            let key = try vectors.publicKey(try test.string("key"))
            #expect(Signing.isValid(try test.hex("signature"), over: message, label: label, by: key), "tcId \(id)")
            ran += 1
        }
        var negatives = 0
        for test in try section.objects("negative") {
            let id = try test.int("tcId")
            let label = try #require(Label.all.first { $0.bytes == (try? test.hex("label")) })
            let verdict = Signing.isValid(
                try test.hex("signature"), over: try test.hex("message"), label: label,
                by: try vectors.publicKey(try test.string("key")))
            #expect(verdict == ((try test.string("result")) == "valid"), "negative tcId \(id)")
            negatives += 1
        }
        print("sign: ran \(ran) label cases and \(negatives) negatives")
        #expect(ran == 10 && negatives == 7)
    }
}
