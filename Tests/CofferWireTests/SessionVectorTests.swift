import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// protocol.json's `handshake` (host-1 ↔ hsm-a on the epoch-6 state) and `sessionRequest` (an encrypt
/// inside that session): every message and derived key recomputed from the listed secrets.
@Suite struct SessionVectorTests {
    let vectors: ProtocolVectors
    init() throws { vectors = try ProtocolVectors.load() }

    @Test func handshakeMessagesAndKeysMatch() throws {
        let h = try vectors.section("handshake")
        let hostKey = try vectors.publicKey(try h.string("hostKey"))
        let hsmKey = try vectors.publicKey(try h.string("hsmSigningKey"))
        let d1 = try ECDH.privateKey(scalar: try h.hex("d1"))
        let q1 = P384PublicKey(d1.publicKey)
        #expect(q1.spki == (try h.hex("Q1")))
        let domainID = try vectors.section("der").object("domainState").object("fields").hex("domainID")
        let sessionInit = SessionInit(
            domainID: domainID, epoch: 6, hostID: try h.string("hostID"), ephemeralKey: q1,
            time: try h.time("time"), nonce: try h.hex("nonce"))
        #expect(sessionInit.derBytes == (try h.hex("sessionInitDer")))
        #expect(Signing.toBeSigned(label: .sessionInit, message: sessionInit.derBytes) == (try h.hex("sig1ToBeSigned")))
        let sig1 = try h.hex("sig1")
        #expect(Signing.isValid(sig1, over: sessionInit.derBytes, label: .sessionInit, by: hostKey))
        let signedInit = SignedInit(initMessage: sessionInit, signature: sig1)
        #expect(signedInit.derBytes == (try h.hex("signedInitDer")))
        #expect(signedInit.digest == (try h.hex("initDigest")))
        #expect(try SignedInit(derEncoded: signedInit.derBytes) == signedInit)

        let d2 = try ECDH.privateKey(scalar: try h.hex("d2"))
        let q2 = P384PublicKey(d2.publicKey)
        #expect(q2.spki == (try h.hex("Q2")))
        let z = try ECDH.sharedSecret(d2, q1)
        #expect(z == SecretBytes(copying: try h.hex("Z")))
        #expect(try ECDH.sharedSecret(d1, q2) == z)
        let u = OneStepKDF.partyInfo(id: try h.string("hostID"), publicKey: q1)
        let v = OneStepKDF.partyInfo(id: try h.string("hsmID"), publicKey: q2)
        #expect(u == (try h.hex("kdfU")))
        #expect(v == (try h.hex("kdfV")))
        #expect(
            OneStepKDF.fixedInfo(algorithm: Label.session.bytes, partyU: u, partyV: v, extra: signedInit.digest)
                == (try h.hex("kdfFixedInfo")))
        let kneg = OneStepKDF.derive(sharedSecret: z, label: .session, partyU: u, partyV: v, extra: signedInit.digest)
        #expect(SecretBytes(kneg) == SecretBytes(copying: try h.hex("Kneg")))
        let sk = try h.hex("SK")
        let esk = try AEAD.seal(sk, key: kneg, aad: signedInit.digest, iv: try h.hex("eskIV"))
        #expect(esk == (try h.hex("ESK")))
        #expect(try AEAD.open(esk, key: kneg, aad: signedInit.digest) == SecretBytes(copying: sk))

        let eh = try h.object("ektHeader")
        let header = ExportedKeyToken.Header(
            domainID: try eh.hex("domainID"), domainKeyID: try eh.hex("domainKeyID"),
            kind: try #require(ExportedKeyToken.Kind(rawValue: Int64(try eh.int("kind")))),
            subject: try eh.hex("subject"),
            spec: try eh.string("spec"), notBefore: try eh.time("notBefore"), notAfter: try eh.time("notAfter"))
        #expect(header.derBytes == (try h.hex("ektHeaderDer")))
        #expect(header.subject == hostKey.digest)
        let ektSealed = try AEAD.seal(
            sk, key: SymmetricKey(data: try h.hex("domainKey")), aad: header.derBytes,
            iv: try h.hex("ektIV"))
        #expect(ektSealed == (try h.hex("ektSealed")))
        let ekt = ExportedKeyToken(header: header, sealed: ektSealed)
        #expect(ekt.derBytes == (try h.hex("ektDer")))
        let accept = SessionAccept(
            hsmID: try h.string("hsmID"), ephemeralKey: q2, initDigest: signedInit.digest,
            esk: esk, ekt: ekt)
        #expect(accept.derBytes == (try h.hex("sessionAcceptDer")))
        #expect(Signing.toBeSigned(label: .sessionAccept, message: accept.derBytes) == (try h.hex("sig2ToBeSigned")))
        let sig2 = try h.hex("sig2")
        #expect(Signing.isValid(sig2, over: accept.derBytes, label: .sessionAccept, by: hsmKey))
        let signedAccept = SignedAccept(accept: accept, signature: sig2)
        #expect(signedAccept.derBytes == (try h.hex("signedAcceptDer")))
        #expect(try SignedAccept(derEncoded: signedAccept.derBytes) == signedAccept)
        #expect(hsmKey.fingerprint == accept.hsmID)
    }

    @Test func sessionRequestAndResponseMatch() throws {
        let s = try vectors.section("sessionRequest")
        let h = try vectors.section("handshake")
        let sk = SymmetricKey(data: try h.hex("SK"))
        let sessionEKT = try ExportedKeyToken(derEncoded: try h.hex("ektDer"))
        let b = try s.object("backingKey")
        let backingEKT = try ExportedKeyToken(derEncoded: try b.hex("ektDer"))
        #expect(backingEKT.header.derBytes == (try b.hex("headerDer")))
        #expect(backingEKT.header.kind == .backingKey)
        #expect(backingEKT.header.subject == (try b.hex("keyID")) + (try b.hex("backingKeyID")))
        #expect(
            try AEAD.open(
                backingEKT.sealed, key: SymmetricKey(data: try h.hex("domainKey")), aad: backingEKT.header.derBytes)
                == SecretBytes(copying: try b.hex("HBK")))

        let context = try EncryptionContext(try s.context("context"))
        let plaintext = SecretBytes(copying: try s.hex("plaintext"))
        let command = SessionCommand.encrypt(key: backingEKT, plaintext: plaintext, context: context)
        #expect(command.secretDER == SecretBytes(copying: try s.hex("sessionCommandDer")))
        #expect(try SessionCommand(secretDER: command.secretDER) == command)
        let requestID = Int64(try s.int("requestID"))
        #expect(sessionEKT.digest == (try s.hex("ektDigest")))
        let requestAAD = SessionRequest.aad(ektDigest: sessionEKT.digest, requestID: requestID)
        #expect(requestAAD == (try s.hex("requestAad")))
        let sealedRequest = try command.secretDER.withUnsafeBytes {
            try AEAD.seal(Array($0), key: sk, aad: requestAAD, iv: try s.hex("requestIV"))
        }
        #expect(sealedRequest == (try s.hex("requestSealed")))
        let request = SessionRequest(ekt: sessionEKT, requestID: requestID, sealed: sealedRequest)
        #expect(request.derBytes == (try s.hex("sessionRequestDer")))
        #expect(try SessionRequest(derEncoded: request.derBytes) == request)

        let blob = try CiphertextBlob.seal(
            try s.hex("plaintext"), backingKey: SymmetricKey(data: try b.hex("HBK")), keyID: try b.hex("keyID"),
            backingKeyID: try b.hex("backingKeyID"), context: context, nonce: try s.hex("blobNonce"),
            iv: try s.hex("blobIV"))
        #expect(blob.bytes == (try s.hex("ciphertextBlob")))
        let result = SessionResult.ciphertext(blob.bytes)
        #expect(result.secretDER == SecretBytes(copying: try s.hex("sessionResultDer")))
        let responseAAD = SessionResponse.aad(ektDigest: sessionEKT.digest, requestID: requestID)
        #expect(responseAAD == (try s.hex("responseAad")))
        let sealedResponse = try result.secretDER.withUnsafeBytes {
            try AEAD.seal(Array($0), key: sk, aad: responseAAD, iv: try s.hex("responseIV"))
        }
        #expect(sealedResponse == (try s.hex("responseSealed")))
        let response = SessionResponse(requestID: requestID, sealed: sealedResponse)
        #expect(response.derBytes == (try s.hex("sessionResponseDer")))
        let opened = try SessionResult(secretDER: try AEAD.open(response.sealed, key: sk, aad: responseAAD))
        #expect(opened == result)
    }
}
