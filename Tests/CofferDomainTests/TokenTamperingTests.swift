import CofferCrypto
import CofferDomain
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// Tokens that are not a valid step of the history, and single-byte flips anywhere in a command, a
/// token, a recipient's wrapped key or the exporter's signature: each refused with a typed error.
@Suite struct TokenTamperingTests {
    var f = DomainFixture()
    let hsm = HSMKeys.generate()
    let genesis: DomainEngine.Outcome
    let rotateCommand: SignedCommand
    let rotated: DomainEngine.Outcome

    init() throws {
        var fixture = DomainFixture()
        genesis = try fixture.create(on: hsm).1
        (rotateCommand, rotated) = try fixture.execute(.rotateKeys, on: hsm, try #require(genesis.membership))
        f = fixture
    }

    private var base: DomainState { genesis.token.state }

    @Test func theGenuineTokenVerifies() throws {
        try TokenVerifier.verifySuccessor(rotated.token, of: base)
        _ = try TokenVerifier.verifyChain([genesis.token, rotated.token], genesisDigest: base.digest)
    }

    @Test mutating func aTokenFromANonMemberIsRefused() throws {
        let outsider = HSMKeys.generate()
        let token = try DomainTokenSealer.export(
            state: rotated.token.state, authorization: rotateCommand, keys: try #require(rotated.membership).keys,
            exporter: outsider, random: &f.random)
        #expect(domainErrorCode { try TokenVerifier.verifySuccessor(token, of: base) } == .badExporter)
    }

    @Test mutating func aStateTheCommandDoesNotProduceIsRefused() throws {
        let genuine = rotated.token.state
        let forged = DomainState(
            domainID: genuine.domainID, name: genuine.name, epoch: genuine.epoch, previous: genuine.previous,
            operators: genuine.operators, members: genuine.members,
            hosts: [Host(id: "sneaky", signingKey: HSMKeys.generate().signingPublicKey)], rules: genuine.rules,
            domainKeys: genuine.domainKeys, parameters: genuine.parameters)
        let token = try DomainTokenSealer.export(
            state: forged, authorization: rotateCommand, keys: try #require(rotated.membership).keys, exporter: hsm,
            random: &f.random)
        #expect(domainErrorCode { try TokenVerifier.verifySuccessor(token, of: base) } == .stateMismatch)
    }

    @Test func missingRecipientsAreRefused() throws {
        let token = rotated.token
        let keys = SealedDomainKeys(sealed: token.keys.sealed, recipients: [])
        let tbs = DomainToken.toBeSigned(
            state: token.state, authorization: token.authorization, keys: keys, exporter: token.exporter)
        let resigned = DomainToken(
            state: token.state, authorization: token.authorization, keys: keys, exporter: token.exporter,
            signature: try hsm.sign(tbs, label: .domainToken))
        #expect(domainErrorCode { try TokenVerifier.verifySuccessor(resigned, of: base) } == .badRecipients)
    }

    @Test func aChainFromAnotherGenesisIsRefused() throws {
        var digest = base.digest
        digest[5] ^= 1
        #expect(
            domainErrorCode {
                _ = try TokenVerifier.verifyChain([genesis.token, rotated.token], genesisDigest: digest)
            } == .wrongGenesis)
        #expect(
            domainErrorCode { _ = try TokenVerifier.verifyChain([rotated.token], genesisDigest: base.digest) }
                == .wrongGenesis)
        #expect(
            domainErrorCode {
                _ = try TokenVerifier.verifyChain(
                    [genesis.token, rotated.token, rotated.token], genesisDigest: base.digest)
            } == .staleBase)
    }

    @Test func everyByteFlipOfTheTokenIsRefusedWithATypedError() throws {
        let der = rotated.token.derBytes
        var byParser = 0
        var byVerifier = 0
        for index in der.indices {
            var bytes = der
            bytes[index] ^= 0x04
            let token: DomainToken
            do {
                token = try DomainToken(derEncoded: bytes)
            } catch {
                byParser += 1
                continue
            }
            #expect(throws: DomainError.self, "byte \(index)") { try TokenVerifier.verifySuccessor(token, of: base) }
            byVerifier += 1
        }
        print("token tampering: \(der.count) flips: \(byParser) refused by the parser, \(byVerifier) by the verifier")
        #expect(byParser + byVerifier == der.count)
    }

    @Test mutating func everyByteFlipOfTheCommandIsRefusedWithATypedError() throws {
        let der = rotateCommand.derBytes
        var byParser = 0
        var byVerifier = 0
        for index in der.indices {
            var bytes = der
            bytes[index] ^= 0x01
            let signed: SignedCommand
            do {
                signed = try SignedCommand(derEncoded: bytes)
            } catch {
                byParser += 1
                continue
            }
            let code = domainErrorCode {
                _ = try DomainEngine.execute(
                    signed, membership: genesis.membership, hsm: hsm, now: f.now, random: &f.random)
            }
            #expect(code != nil, "byte \(index)")
            byVerifier += 1
        }
        print("command tampering: \(der.count) flips: \(byParser) refused by the parser, \(byVerifier) by verification")
        #expect(byParser + byVerifier == der.count)
    }

    @Test func aFlippedWrappedKeyOrSealedKeysDoNotOpen() throws {
        let token = rotated.token
        let recipient = try #require(token.keys.recipients.first)
        for index in recipient.wrappedDKEK.indices {
            var wrapped = recipient.wrappedDKEK
            wrapped[index] ^= 0x80
            let keys = SealedDomainKeys(
                sealed: token.keys.sealed,
                recipients: [
                    Recipient(hsmID: recipient.hsmID, ephemeralKey: recipient.ephemeralKey, wrappedDKEK: wrapped)
                ])
            let altered = DomainToken(
                state: token.state, authorization: token.authorization, keys: keys,
                exporter: token.exporter, signature: token.signature)
            #expect(domainErrorCode { _ = try DomainTokenSealer.open(altered, as: hsm) } == .authenticationFailed)
            #expect(domainErrorCode { try TokenVerifier.verifySuccessor(altered, of: base) } == .badSignature)
        }
        for index in stride(from: 0, to: token.keys.sealed.count, by: 7) {
            var sealed = token.keys.sealed
            sealed[index] ^= 0x01
            let altered = DomainToken(
                state: token.state, authorization: token.authorization,
                keys: SealedDomainKeys(sealed: sealed, recipients: token.keys.recipients), exporter: token.exporter,
                signature: token.signature)
            #expect(domainErrorCode { _ = try DomainTokenSealer.open(altered, as: hsm) } == .authenticationFailed)
        }
    }

    @Test func aFlippedExporterSignatureIsRefused() throws {
        let token = rotated.token
        for index in token.signature.indices {
            var signature = token.signature
            signature[index] ^= 0x01
            let altered = DomainToken(
                state: token.state, authorization: token.authorization, keys: token.keys,
                exporter: token.exporter, signature: signature)
            #expect(domainErrorCode { try TokenVerifier.verifySuccessor(altered, of: base) } == .badSignature)
        }
    }
}
