import CofferCrypto
import CofferTestSupport
import CofferWire
import NIOCore
import Testing

/// protocol.json's `envelope`, `sessionCommand`, `sessionResult` and `frames` sections.
@Suite struct EnvelopeVectorTests {
    let vectors: ProtocolVectors
    init() throws { vectors = try ProtocolVectors.load() }

    @Test func everyEnvelopeBodyKindDecodesAndReencodes() throws {
        var kinds: Set<UInt> = []
        for test in try vectors.section("envelope").objects("tests") {
            let kind = try test.string("kind")
            let der = try test.hex("envelopeDer")
            let envelope = try Envelope(derEncoded: der)
            #expect(envelope.id == Int64(try test.int("id")), "\(kind)")
            #expect(envelope.derBytes == der, "\(kind) re-encodes to the same bytes")
            #expect(envelope.frame == (try test.hex("frame")), "\(kind) frame")
            #expect(Hex.encode(Envelope.tagBytes(envelope.body.tag)) == (try test.string("bodyTag")), "\(kind) tag")
            let bodyDER = try test.hex("bodyDer")
            #expect(der.count > bodyDER.count)
            #expect(Array(der.suffix(bodyDER.count)) == bodyDER, "\(kind): the body is carried exactly as its own DER")
            #expect(Envelope(id: envelope.id, body: envelope.body).derBytes == der)
            kinds.insert(envelope.body.tag)
        }
        #expect(kinds == [0, 1, 2, 3, 4, 5, 16, 17, 19, 20, 31])
    }

    @Test func everySessionCommandKindRoundTrips() throws {
        var tags: [UInt] = []
        for test in try vectors.section("sessionCommand").objects("tests") {
            let der = try test.hex("der")
            let kind = try test.string("kind")
            let command = try SessionCommand(secretDER: SecretBytes(copying: der))
            #expect(command.tag == UInt(try test.int("tag")))
            #expect(command.secretDER == SecretBytes(copying: der), "\(kind)")
            tags.append(command.tag)
        }
        #expect(tags == [0, 1, 2, 3, 4, 5, 6])
    }

    @Test func everySessionResultKindRoundTrips() throws {
        var ran = 0
        for test in try vectors.section("sessionResult").objects("tests") {
            let der = try test.hex("der")
            let kind = try test.string("kind")
            let result = try SessionResult(secretDER: SecretBytes(copying: der))
            #expect(result.secretDER == SecretBytes(copying: der), "\(kind)")
            if case .dataKey(let plaintext, _) = result, (try test.string("comment")).contains("without") {
                #expect(plaintext == nil)
            }
            ran += 1
        }
        #expect(ran == 7)
    }

    @Test func frameLengthPrefixesEarnWhatTheVectorsSay() throws {
        for test in try vectors.section("frames").objects("tests") {
            let prefix = try test.hex("lengthPrefix")
            var buffer = ByteBuffer(bytes: prefix)
            let comment = try test.string("comment")
            switch (try test.string("result"), test["outcome"] as? String) {
            case ("valid", _):
                // The largest allowed length is accepted: the parser waits for the body.
                #expect(try FrameParser.nextFrame(from: &buffer) == nil, "\(comment)")
                buffer.writeBytes([UInt8](repeating: 0, count: 1 << 20))
                #expect(try FrameParser.nextFrame(from: &buffer) != nil, "\(comment)")
            case (_, "close"?):
                #expect(throws: WireError.self, "\(comment)") { try FrameParser.nextFrame(from: &buffer) }
                do { _ = try FrameParser.nextFrame(from: &buffer) } catch { #expect(error.code == .frameTooLarge) }
            case (_, "failure"?):
                #expect(try FrameParser.nextFrame(from: &buffer) == .empty, "\(comment)")
                #expect(buffer.readableBytes == 0)
            default:
                Issue.record("unknown frame case \(comment)")
            }
        }
    }

    @Test func idOfAnUndecodableFrameIsEchoedWhenReadable() throws {
        // version 2 with id 7: unsupported, answered with id 7.
        let bytes = Hex.decode("301a020102020107a0120410" + String(repeating: "00", count: 16))!
        #expect(Envelope.peekID(bytes) == 7)
        do {
            _ = try Envelope(derEncoded: bytes)
            Issue.record("version 2 must be refused")
        } catch {
            #expect(error.code == .unsupported)
        }
        #expect(Envelope.peekID([0x30, 0x03, 0x02, 0x01, 0x00]) == nil)  // id 0 is reserved
        #expect(Envelope.peekID([0x01, 0x02]) == nil)
    }
}

extension Envelope {
    /// The identifier octets of a context-specific constructed tag, for comparing with the vectors.
    static func tagBytes(_ number: UInt) -> [UInt8] {
        number < 31 ? [0xa0 | UInt8(number)] : [0xbf, UInt8(number)]
    }
}
