import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// protocol.json's `domainToken`: `domain.rotateKeys` executed (epoch 5 → 6), the keys sealed under a
/// DKEK, the DKEK carried to each member by one-pass ECDH, the exporter's signature over the whole.
/// Every intermediate value is recomputed here, and the token is opened from both recipients' sides.
@Suite struct DomainTokenVectorTests {
    let vectors: ProtocolVectors
    let t: [String: Any]
    init() throws {
        vectors = try ProtocolVectors.load()
        t = try vectors.section("domainToken")
    }

    @Test func tokenDecodesAndReencodesToTheSameBytes() throws {
        let token = try DomainToken(derEncoded: try t.hex("tokenDer"))
        #expect(token.derBytes == (try t.hex("tokenDer")))
        #expect(token.state.derBytes == (try t.hex("stateDer")))
        #expect(token.state.digest == (try t.hex("stateDigest")))
        #expect(token.state.previous == (try t.hex("previousStateDigest")))
        #expect(token.authorization.derBytes == (try t.hex("authorizationDer")))
        #expect(token.keys.derBytes == (try t.hex("sealedDomainKeysDer")))
        #expect(token.exporter == (try t.string("exporter")))
        #expect(token.toBeSigned == (try t.hex("toBeSigned")))
        #expect(Signing.toBeSigned(label: .domainToken, message: token.toBeSigned) == (try t.hex("signatureInput")))
        #expect(
            Signing.isValid(
                token.signature, over: token.toBeSigned, label: .domainToken,
                by: try vectors.publicKey(try t.string("exporterSigningKey"))))
        let rebuilt = DomainToken(
            state: token.state, authorization: token.authorization, keys: token.keys,
            exporter: token.exporter, signature: token.signature)
        #expect(rebuilt.derBytes == token.derBytes)
        #expect(token.state.epoch == 6)
        #expect(token.state.activeKey?.keyID == (try t.object("newDomainKey").hex("keyID")))
    }

    @Test func sealedKeysAndEveryRecipientWrapAreReproduced() throws {
        let token = try DomainToken(derEncoded: try t.hex("tokenDer"))
        let digest = token.state.digest
        let dkek = try t.hex("DKEK")
        let keys = try t.objects("domainKeys").map {
            DomainKey(keyID: try $0.hex("keyID"), material: SecretBytes(copying: try $0.hex("material")))
        }
        let keysDER = DomainKeyList.encode(keys)
        #expect(keysDER == SecretBytes(copying: try t.hex("domainKeysDer")))
        let sealed = try keysDER.withUnsafeBytes {
            try AEAD.seal(Array($0), key: SymmetricKey(data: dkek), aad: digest, iv: try t.hex("sealedIV"))
        }
        #expect(sealed == (try t.hex("sealed")))
        #expect(token.keys.sealed == sealed)

        let exporterSPKIName = try t.string("exporterSigningKey")
        let exporterID = try vectors.publicKey(exporterSPKIName).fingerprint
        #expect(exporterID == token.exporter)
        var ran = 0
        for (recipient, entry) in zip(token.keys.recipients, try t.objects("recipients")) {
            let hsmID = try entry.string("hsmID")
            #expect(recipient.hsmID == hsmID)
            let agreementName = try entry.string("recipientAgreementKey")
            let recipientKey = try vectors.publicKey(agreementName)
            let ephemeral = try ECDH.privateKey(scalar: try entry.hex("ephemeralPrivate"))
            #expect(P384PublicKey(ephemeral.publicKey) == recipient.ephemeralKey)
            #expect(recipient.ephemeralKey.spki == (try entry.hex("ephemeralKey")))
            // Exporter's side.
            let z = try ECDH.sharedSecret(ephemeral, recipientKey)
            #expect(z == SecretBytes(copying: try entry.hex("Z")))
            let u = OneStepKDF.partyInfo(id: token.exporter, publicKey: recipient.ephemeralKey)
            let v = OneStepKDF.partyInfo(id: hsmID, publicKey: recipientKey)
            #expect(u == (try entry.hex("U")))
            #expect(v == (try entry.hex("V")))
            #expect(
                OneStepKDF.fixedInfo(algorithm: Label.dkekWrap.bytes, partyU: u, partyV: v, extra: digest)
                    == (try entry.hex("fixedInfo")))
            let kek = OneStepKDF.derive(sharedSecret: z, label: .dkekWrap, partyU: u, partyV: v, extra: digest)
            #expect(SecretBytes(kek) == SecretBytes(copying: try entry.hex("KEK")))
            let wrapped = try AEAD.seal(dkek, key: kek, aad: digest, iv: try entry.hex("wrappedDKEKIV"))
            #expect(wrapped == recipient.wrappedDKEK)
            #expect(wrapped == (try entry.hex("wrappedDKEK")))
            #expect(recipient.derBytes == (try entry.hex("recipientDer")))
            // Recipient's side: its static agreement key and the signed ephemeral key open everything.
            let own = try vectors.agreementKey(agreementName)
            let kek2 = OneStepKDF.derive(
                sharedSecret: try ECDH.sharedSecret(own, recipient.ephemeralKey),
                label: .dkekWrap, partyU: u, partyV: v, extra: digest)
            let opened = try AEAD.open(recipient.wrappedDKEK, key: kek2, aad: digest)
            let plaintext = try AEAD.open(token.keys.sealed, key: opened.symmetricKey, aad: digest)
            #expect(try DomainKeyList.decode(plaintext) == keys)
            ran += 1
        }
        #expect(ran == 2)
    }

    @Test func aFlippedByteAnywhereInTheTokenIsRefusedOrChangesWhatIsSigned() throws {
        let der = try t.hex("tokenDer")
        let original = try DomainToken(derEncoded: der)
        let exporterKey = try vectors.publicKey(try t.string("exporterSigningKey"))
        var parsedButDifferent = 0
        var refused = 0
        for index in der.indices {
            var bytes = der
            bytes[index] ^= 0x01
            guard let token = try? DomainToken(derEncoded: bytes) else {
                refused += 1
                continue
            }
            // Whatever still parses is a different token, and its signature must not verify.
            #expect(token.derBytes != original.derBytes)
            #expect(
                !Signing.isValid(token.signature, over: token.toBeSigned, label: .domainToken, by: exporterKey),
                "byte \(index)")
            parsedButDifferent += 1
        }
        print("domain token tamper: \(refused) flips refused by the parser, \(parsedButDifferent) by the signature")
        #expect(refused + parsedButDifferent == der.count)
    }
}
