import CofferCrypto
import CofferTestSupport
import CofferWire
import NIOCore
import NIOEmbedded
import Testing

/// The frame codec on a real NIO pipeline (EmbeddedChannel): every decoder's input fed one byte at a
/// time, frames back to back, zero-length frames, oversized lengths, and the encoder's output.
@Suite struct FrameCodecTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        return channel
    }

    /// Feeds `frame` one byte at a time; nothing may come out before the last byte; returns the body.
    private func feedByteByByte(_ frame: [UInt8], into channel: EmbeddedChannel) throws -> InboundFrame? {
        for (index, byte) in frame.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index < frame.count - 1 {
                #expect(
                    try channel.readInbound(as: InboundFrame.self) == nil, "a frame came out after \(index + 1) bytes")
            }
        }
        return try channel.readInbound(as: InboundFrame.self)
    }

    /// (name, DER, decoder) for every decoder, from the vectors.
    private func everyDecoderInput() throws -> [(String, [UInt8], ([UInt8]) throws -> [UInt8])] {
        let vectors = try ProtocolVectors.load()
        var inputs: [(String, [UInt8], ([UInt8]) throws -> [UInt8])] = []
        for test in try vectors.section("envelope").objects("tests") {
            inputs.append(
                (
                    "Envelope " + (try test.string("kind")), try test.hex("envelopeDer"),
                    { try Envelope(derEncoded: $0).derBytes }
                ))
        }
        let der = try vectors.section("der")
        inputs.append(
            ("DomainState", try der.object("domainState").hex("der"), { try DomainState(derEncoded: $0).derBytes }))
        inputs.append(
            (
                "QuorumCommand", try der.object("quorumCommand").hex("der"),
                { try QuorumCommand(derEncoded: $0).derBytes }
            ))
        inputs.append(
            (
                "SignedCommand", try der.object("signedCommand").hex("der"),
                { try SignedCommand(derEncoded: $0).derBytes }
            ))
        for test in try der.object("hsmIdentity").objects("tests") {
            inputs.append(("HSMIdentity", try test.hex("hsmIdentityDer"), { try HSMIdentity(derEncoded: $0).derBytes }))
            inputs.append(
                ("SignedIdentity", try test.hex("identityBodyDer"), { try SignedIdentity(derEncoded: $0).derBytes }))
        }
        let token = try vectors.section("domainToken")
        inputs.append(("DomainToken", try token.hex("tokenDer"), { try DomainToken(derEncoded: $0).derBytes }))
        inputs.append(
            (
                "SealedDomainKeys", try token.hex("sealedDomainKeysDer"),
                { try SealedDomainKeys(derEncoded: $0).derBytes }
            ))
        let handshake = try vectors.section("handshake")
        inputs.append(
            ("SessionInit", try handshake.hex("sessionInitDer"), { try SessionInit(derEncoded: $0).derBytes }))
        inputs.append(("SignedInit", try handshake.hex("signedInitDer"), { try SignedInit(derEncoded: $0).derBytes }))
        inputs.append(
            ("SessionAccept", try handshake.hex("sessionAcceptDer"), { try SessionAccept(derEncoded: $0).derBytes }))
        inputs.append(
            ("SignedAccept", try handshake.hex("signedAcceptDer"), { try SignedAccept(derEncoded: $0).derBytes }))
        inputs.append(
            ("ExportedKeyToken", try handshake.hex("ektDer"), { try ExportedKeyToken(derEncoded: $0).derBytes }))
        inputs.append(
            ("EKT header", try handshake.hex("ektHeaderDer"), { try ExportedKeyToken.Header(derEncoded: $0).derBytes }))
        let request = try vectors.section("sessionRequest")
        inputs.append(
            ("SessionRequest", try request.hex("sessionRequestDer"), { try SessionRequest(derEncoded: $0).derBytes }))
        inputs.append(
            ("SessionResponse", try request.hex("sessionResponseDer"), { try SessionResponse(derEncoded: $0).derBytes })
        )
        for test in try vectors.section("sessionCommand").objects("tests") {
            inputs.append(
                (
                    "SessionCommand", try test.hex("der"),
                    {
                        try SessionCommand(secretDER: SecretBytes(copying: $0)).secretDER.withUnsafeBytes {
                            [UInt8]($0)
                        }
                    }
                ))
        }
        for test in try vectors.section("sessionResult").objects("tests") {
            inputs.append(
                (
                    "SessionResult", try test.hex("der"),
                    {
                        try SessionResult(secretDER: SecretBytes(copying: $0)).secretDER.withUnsafeBytes { [UInt8]($0) }
                    }
                ))
        }
        for test in try vectors.section("arguments").objects("tests") {
            let command = try test.string("command")
            inputs.append(
                (command, try test.hex("der"), { try CommandArguments(command: command, arguments: $0).derBytes }))
        }
        for test in try vectors.section("ciphertextBlob").objects("tests") {
            inputs.append(
                (
                    "EncryptionContext", try test.hex("encryptionContextDer"),
                    { try EncryptionContext(derEncoded: $0).derBytes }
                ))
        }
        return inputs
    }

    @Test func everyDecoderIsFedItsInputOneByteAtATimeThroughTheFrameCodec() throws {
        let inputs = try everyDecoderInput()
        let channel = try channel()
        var names: Set<String> = []
        for (name, der, decode) in inputs {
            var framed = ByteBuffer()
            FrameParser.writeFrame(der, to: &framed)
            guard case .body(let body)? = try feedByteByByte(Array(framed.readableBytesView), into: channel) else {
                Issue.record("\(name): no frame")
                continue
            }
            #expect(try decode(Array(body.readableBytesView)) == der, "\(name)")
            names.insert(name)
        }
        print("frame codec: fed \(inputs.count) inputs of \(names.count) decoders one byte at a time")
        #expect(names.count >= 30)
        #expect(try channel.finish().isClean)
    }

    @Test func framesBackToBackAndAnEmptyFrameComeOutInOrder() throws {
        let channel = try channel()
        let first = Envelope(id: 1, body: .currentToken)
        let second = Envelope(id: 2, body: .identify(challenge: [UInt8](repeating: 7, count: 16)))
        let stream = first.frame + [0, 0, 0, 0] + second.frame
        try channel.writeInbound(ByteBuffer(bytes: stream))
        guard case .body(let one)? = try channel.readInbound(as: InboundFrame.self) else { throw VectorError("first") }
        #expect(try Envelope(derEncoded: Array(one.readableBytesView)) == first)
        #expect(try channel.readInbound(as: InboundFrame.self) == .empty)
        guard case .body(let two)? = try channel.readInbound(as: InboundFrame.self) else { throw VectorError("second") }
        #expect(try Envelope(derEncoded: Array(two.readableBytesView)) == second)
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
    }

    @Test func anOversizedLengthIsAnErrorFromTheFourPrefixBytesAlone() throws {
        let channel = try channel()
        #expect(throws: WireError.self) { try channel.writeInbound(ByteBuffer(bytes: [0x00, 0x10, 0x00, 0x01])) }
    }

    @Test func theEncoderWritesTheLengthPrefix() throws {
        let channel = try channel()
        let envelope = Envelope(id: 9, body: .currentToken)
        try channel.writeOutbound(ByteBuffer(bytes: envelope.derBytes))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == envelope.frame)
        #expect(throws: (any Error).self) { try channel.writeOutbound(ByteBuffer()) }
    }
}
