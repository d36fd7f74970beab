import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto
import Testing

/// The host and HSM state machines against each other in memory (PROTOCOL §7, §8).
@Suite struct SessionTests {
    private let keyID = [UInt8](repeating: 0x11, count: 16)
    private let backingKeyID = [UInt8](repeating: 0x22, count: 16)

    private func backingKey(_ world: inout SessionWorld, _ session: Session) throws -> ExportedKeyToken {
        guard
            case .token(let token) = try world.run(
                .createBackingKey(keyID: keyID, backingKeyID: backingKeyID, spec: "AES_256"), session: session)
        else { throw FixtureError() }
        return token
    }

    private func failureCode(_ body: Envelope.Body) -> Failure.Code? {
        if case .failure(let failure) = body { return failure.code }
        return nil
    }

    @Test func aSessionOpenedOnAIsServedByB() throws {
        var world = try SessionWorld()
        let session = try world.session()
        #expect(session.acceptedBy == world.keysA.hsmID)
        guard case .random(let bytes) = try world.run(.generateRandom(length: 32), session: session, toB: true) else {
            Issue.record("B must serve A's session")
            return
        }
        #expect(bytes.count == 32)
        let token = try backingKey(&world, session)
        let context = try EncryptionContext(["purpose": "test"])
        guard
            case .ciphertext(let blob) = try world.run(
                .encrypt(key: token, plaintext: SecretBytes(copying: Array("hello".utf8)), context: context),
                session: session, toB: true)
        else { throw FixtureError() }
        guard
            case .plaintext(let returnedKeyID, let plaintext) = try world.run(
                .decrypt(key: token, ciphertext: blob, context: context), session: session)
        else { throw FixtureError() }
        #expect(returnedKeyID == keyID)
        #expect(plaintext == SecretBytes(copying: Array("hello".utf8)))
    }

    @Test func ciphertextsOpenOnlyUnderTheSameContextAndUnflipped() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try backingKey(&world, session)
        let context = try EncryptionContext(["a": "1", "b": "2"])
        guard
            case .ciphertext(let blob) = try world.run(
                .encrypt(key: token, plaintext: SecretBytes(copying: [1, 2, 3]), context: context), session: session)
        else { throw FixtureError() }
        let variants: [[String: String]] = [
            ["a": "1"], ["a": "1", "b": "3"], ["a": "1", "b": "2", "c": "3"], ["a": "1", "B": "2"], [:],
            ["a": "1", "b": "2 "],
        ]
        for variant in variants {
            guard
                case .failure(let failure) = try world.run(
                    .decrypt(key: token, ciphertext: blob, context: try EncryptionContext(variant)), session: session)
            else {
                Issue.record("context \(variant) must not decrypt")
                continue
            }
            #expect(failure.code == .invalidCiphertext)
        }
        for index in blob.indices {
            var flipped = blob
            flipped[index] ^= 0x01
            guard
                case .failure(let failure) = try world.run(
                    .decrypt(key: token, ciphertext: flipped, context: context), session: session)
            else {
                Issue.record("byte \(index) flipped must not decrypt")
                continue
            }
            #expect([.invalidCiphertext, .incorrectKey].contains(failure.code), "byte \(index): \(failure.code)")
        }
    }

    @Test func dataKeysReEncryptAndRewrap() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try backingKey(&world, session)
        guard
            case .dataKey(let plaintext?, let blob) = try world.run(
                .generateDataKey(key: token, length: 32, context: .empty, returnPlaintext: true), session: session)
        else { throw FixtureError() }
        guard
            case .dataKey(nil, _) = try world.run(
                .generateDataKey(key: token, length: 64, context: .empty, returnPlaintext: false), session: session)
        else { throw FixtureError() }
        guard
            case .plaintext(_, let opened) = try world.run(
                .decrypt(key: token, ciphertext: blob, context: .empty), session: session)
        else { throw FixtureError() }
        #expect(opened == plaintext)
        // Re-encrypt to another key and another context; the plaintext never leaves the HSM.
        guard
            case .token(let other) = try world.run(
                .createBackingKey(keyID: backingKeyID, backingKeyID: keyID, spec: "AES_256"), session: session)
        else { throw FixtureError() }
        let destination = try EncryptionContext(["to": "other"])
        guard
            case .ciphertext(let moved) = try world.run(
                .reEncrypt(
                    source: token, ciphertext: blob, sourceContext: .empty, destination: other,
                    destinationContext: destination),
                session: session)
        else { throw FixtureError() }
        guard
            case .plaintext(let keyID2, let again) = try world.run(
                .decrypt(key: other, ciphertext: moved, context: destination), session: session)
        else { throw FixtureError() }
        #expect(again == plaintext)
        #expect(keyID2 == backingKeyID)
        // The wrong key for a blob is incorrectKey.
        guard
            case .failure(let wrong) = try world.run(
                .decrypt(key: other, ciphertext: blob, context: .empty), session: session)
        else {
            throw FixtureError()
        }
        #expect(wrong.code == .incorrectKey)
        // Rewrap keeps the header and the material.
        guard case .token(let rewrapped) = try world.run(.rewrapToken(token: token), session: session) else {
            throw FixtureError()
        }
        #expect(rewrapped.header.subject == token.header.subject)
        guard
            case .plaintext(_, let viaRewrapped) = try world.run(
                .decrypt(key: rewrapped, ciphertext: blob, context: .empty), session: session)
        else { throw FixtureError() }
        #expect(viaRewrapped == plaintext)
        // Unsupported spec.
        guard
            case .failure(let unsupported) = try world.run(
                .createBackingKey(keyID: keyID, backingKeyID: keyID, spec: "RSA_1024"), session: session)
        else { throw FixtureError() }
        #expect(unsupported.code == .unsupported)
    }

    @Test func aReplayedRequestIdIsRefusedAndTheWindowSlides() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let command = SessionCommand.generateRandom(length: 8)
        guard case .sessionResponse = try world.send(command, session: session, requestID: 5000) else {
            throw FixtureError()
        }
        #expect(failureCode(try world.send(command, session: session, requestID: 5000)) == .replay)
        guard case .sessionResponse = try world.send(command, session: session, requestID: 3977) else {
            throw FixtureError()
        }
        #expect(failureCode(try world.send(command, session: session, requestID: 3976)) == .replay)  // ≤ Hi − 1024
        // Replay protection is per HSM: B has not seen 5000 yet.
        guard case .sessionResponse = try world.send(command, session: session, toB: true, requestID: 5000) else {
            throw FixtureError()
        }
    }

    @Test func aRequestSealedUnderAnotherSessionsKeyIsRefused() throws {
        var world = try SessionWorld()
        let first = try world.session()
        let second = try world.session()
        let request = try second.seal(.generateRandom(length: 8), requestID: 1)
        let forged = SessionRequest(ekt: first.ekt, requestID: 1, sealed: request.sealed)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionRequest(forged), now: world.now, random: &world.random))
                == .authenticationFailed)
        // The failed attempt did not burn the id: the genuine request 1 still runs.
        guard case .sessionResponse = try world.send(.generateRandom(length: 8), session: first, requestID: 1) else {
            throw FixtureError()
        }
    }

    @Test func anExpiredSessionAndAnotherDomainsTokenAreRefused() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let late = world.now.adding(seconds: 3601)
        #expect(
            failureCode(try world.send(.generateRandom(length: 8), session: session, toB: true, now: late))
                == .timeWindow)
        // A session EKT of another domain, for the same host key, is refused as another domain's.
        var other = try SessionWorld(hostKey: world.hostKey)
        let foreign = try other.session()
        #expect(failureCode(try world.send(.generateRandom(length: 8), session: foreign)) == .wrongDomain)
        // And a backing-key token of another domain inside a valid session: a sealed wrongDomain.
        guard
            case .token(let foreignKey) = try other.run(
                .createBackingKey(keyID: keyID, backingKeyID: backingKeyID, spec: "AES_256"), session: foreign)
        else { throw FixtureError() }
        let ours = try world.session()
        guard
            case .failure(let failure) = try world.run(
                .encrypt(key: foreignKey, plaintext: SecretBytes(copying: [1]), context: .empty), session: ours)
        else { throw FixtureError() }
        #expect(failure.code == .wrongDomain)
    }

    @Test func aCachedSessionEndsWhenItsDomainKeyIsRotatedOut() throws {
        var world = try SessionWorld()
        let session = try world.session()
        // Served once: A has opened the session's EKT and keeps its key in the session-key cache.
        _ = try world.run(.generateRandom(length: 8), session: session)
        #expect(world.a.sessionKeyCount == 1)
        try world.rotateDomainKeyOut()
        // The rotation that dropped the domain key dropped the session key it sealed from A's memory.
        #expect(world.a.sessionKeyCount == 0)
        // The domain key that sealed the EKT is gone: the cached key must not outlive it.
        #expect(failureCode(try world.send(.generateRandom(length: 8), session: session)) == .wrongDomain)
        // A session under the new domain key is served, and its key kept.
        _ = try world.run(.generateRandom(length: 8), session: try world.session())
        #expect(world.a.sessionKeyCount == 1)
    }

    @Test func aCachedSessionOutlivesADomainChangeThatKeepsItsDomainKey() throws {
        var world = try SessionWorld()
        let session = try world.session()
        _ = try world.run(.generateRandom(length: 8), session: session)
        #expect(world.a.sessionKeyCount == 1)
        #expect(world.state.parameters.domainKeyRetention >= 1)
        try world.rotateDomainKey(times: 1)
        // The key that sealed the EKT is still held: the cached session key stays, and serves.
        #expect(world.a.sessionKeyCount == 1)
        _ = try world.run(.generateRandom(length: 8), session: session)
        #expect(world.a.sessionKeyCount == 1)
    }

    @Test func aKeptBackingKeyIsRefusedOnceItsDomainKeyIsRotatedOut() throws {
        var world = try SessionWorld()
        let token = try backingKey(&world, try world.session())
        // Used once: A keeps the opened token.
        _ = try world.run(
            .encrypt(key: token, plaintext: SecretBytes(copying: [1]), context: .empty), session: world.session())
        #expect(world.a.openedTokenCount == 1)
        try world.rotateDomainKeyOut()
        // The rotation that dropped the domain key dropped what it sealed from A's memory too (§7: evicted).
        #expect(world.a.openedTokenCount == 0)
        // A session under the new domain key still cannot use the token whose domain key is gone.
        let fresh = try world.session()
        guard
            case .failure(let failure) = try world.run(
                .encrypt(key: token, plaintext: SecretBytes(copying: [1]), context: .empty), session: fresh)
        else { throw FixtureError() }
        #expect(failure.code == .wrongDomain)
    }

    @Test func keptBackingKeysStayWithinTheCapacity() throws {
        var world = try SessionWorld()
        let session = try world.session()
        for number in 1...(HSMCore.openedTokenCapacity + 1) {
            let token = try backingKey(&world, session)
            _ = try world.run(
                .encrypt(key: token, plaintext: SecretBytes(copying: [1]), context: .empty), session: session)
            if number == HSMCore.openedTokenCapacity {
                #expect(world.a.openedTokenCount == HSMCore.openedTokenCapacity)
            }
        }
        // Full of tokens every check still passes: the cache started afresh with the newest one.
        #expect(world.a.openedTokenCount == 1)
    }

    @Test func aKeptBackingKeyIsUsedOnlyWithTheHeaderItWasOpenedWith() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try backingKey(&world, session)
        guard
            case .ciphertext(let blob) = try world.run(
                .encrypt(key: token, plaintext: SecretBytes(copying: [7]), context: .empty), session: session)
        else { throw FixtureError() }
        // The same sealed bytes under altered headers: every field is bound by Open, none is served from
        // what A kept for the genuine token.
        let h = token.header
        let altered = [
            ExportedKeyToken.Header(
                domainID: h.domainID, domainKeyID: h.domainKeyID, kind: h.kind, subject: h.subject, spec: h.spec,
                notBefore: h.notBefore, notAfter: world.now.adding(seconds: 86_400)),
            ExportedKeyToken.Header(
                domainID: h.domainID, domainKeyID: h.domainKeyID, kind: h.kind, subject: backingKeyID + keyID,
                spec: h.spec, notBefore: h.notBefore, notAfter: h.notAfter),
            ExportedKeyToken.Header(
                domainID: h.domainID, domainKeyID: h.domainKeyID, kind: h.kind, subject: h.subject, spec: h.spec,
                notBefore: h.notBefore.adding(seconds: -1), notAfter: h.notAfter),
        ]
        for header in altered {
            let forged = ExportedKeyToken(header: header, sealed: token.sealed)
            guard
                case .failure(let failure) = try world.run(
                    .decrypt(key: forged, ciphertext: blob, context: .empty), session: session)
            else {
                Issue.record("a token with an altered header was used")
                continue
            }
            #expect(failure.code == .authenticationFailed)
        }
        // The genuine token still opens the blob.
        guard
            case .plaintext(_, let plaintext) = try world.run(
                .decrypt(key: token, ciphertext: blob, context: .empty), session: session)
        else { throw FixtureError() }
        #expect(plaintext == SecretBytes(copying: [7]))
    }

    @Test func aRemovedHostLosesItsSessions() throws {
        var world = try SessionWorld()
        let session = try world.session()
        var f = world.fixture
        let remove = try f.sign(
            f.command(.modifyHosts(add: [], remove: [world.hostID]), base: world.state), by: ["alice", "bob"])
        _ = try SessionWorld.token(SessionWorld.ask(&world.a, .command(remove), now: f.now, random: &f.random))
        #expect(failureCode(try world.send(.generateRandom(length: 8), session: session)) == .unknownHost)
        // A new offer is refused too: §7 checks the host (unknownHost) before the epoch (staleBase).
        let (_, offer) = try world.offer()
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(offer), now: world.now, random: &world.random))
                == .unknownHost)
    }

    @Test func aReplayedSignedInitIsRefusedWithoutAHandshake() throws {
        var world = try SessionWorld()
        let (_, offer) = try world.offer()
        guard case .accept = SessionWorld.ask(&world.a, .sessionInit(offer), now: world.now, random: &world.random)
        else { throw FixtureError() }
        // The same bytes again, within the clock skew: refused, on A; B has not seen them and may serve.
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(offer), now: world.now, random: &world.random))
                == .replay)
        guard case .accept = SessionWorld.ask(&world.b, .sessionInit(offer), now: world.now, random: &world.random)
        else { throw FixtureError() }
        // The same SessionInit under a new signature (ECDSA signs anew each time) is the same replay.
        let resigned = SignedInit(
            initMessage: offer.initMessage,
            signature: try Signing.sign(offer.initMessage.derBytes, label: .sessionInit, with: world.hostKey))
        #expect(resigned.signature != offer.signature)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(resigned), now: world.now, random: &world.random))
                == .replay)
        // Past the skew the entry has lapsed and §7's time check refuses the init instead.
        let later = world.now.adding(seconds: 301)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(offer), now: later, random: &world.random))
                == .timeWindow)
        // A fresh offer from the same host is accepted.
        let (_, fresh) = try world.offer()
        guard case .accept = SessionWorld.ask(&world.a, .sessionInit(fresh), now: world.now, random: &world.random)
        else { throw FixtureError() }
    }

    @Test func sig1VerifiedOutsideTheCoreIsTrustedOnlyForItsOwnInitAndKey() throws {
        // The server verifies Sig1 outside its lock and hands the proof to the core (issue 13).
        var world = try SessionWorld()
        let (_, offer) = try world.offer()
        let key = try #require(world.a.sessionInitKey(offer, now: world.now))
        #expect(key == P384PublicKey(world.hostKey.publicKey))
        let proof = try #require(HSMCore.verifySessionInit(offer, key: key))
        // A proof for this init spares nothing else: it is accepted as before, and once accepted it is a replay
        // the pre-check already reports (no key: the core answers the replay).
        let accepted = world.a.handle(
            Envelope(id: 1, body: .sessionInit(offer)), now: world.now, random: &world.random,
            proof: .sessionInit(proof))
        guard case .accept = accepted.answer.body else { throw FixtureError() }
        #expect(world.a.sessionInitKey(offer, now: world.now) == nil)
        // A tampered Sig1 does not verify, and a proof made for another init does not carry over to it.
        let (_, other) = try world.offer()
        var signature = other.signature
        signature[signature.count - 1] ^= 1
        let forged = SignedInit(initMessage: other.initMessage, signature: signature)
        #expect(HSMCore.verifySessionInit(forged, key: key) == nil)
        let (_, third) = try world.offer()
        let otherProof = try #require(HSMCore.verifySessionInit(third, key: key))
        let refused = world.a.handle(
            Envelope(id: 2, body: .sessionInit(forged)), now: world.now, random: &world.random,
            proof: .sessionInit(otherProof)
        )
        #expect(failureCode(refused.answer.body) == .badSignature)
        // Refused outside the lock as the server does it, with the core's own answer.
        guard let preverification = world.a.preverification(for: .sessionInit(forged), now: world.now),
            case .failure(let outside) = HSMCore.preverify(preverification)
        else {
            Issue.record("a forged Sig1 must be refused outside the lock")
            return
        }
        #expect(outside.code == .badSignature)
        #expect(Envelope.Body.failure(outside) == refused.answer.body)
        // A proof under another key (a host re-keyed meanwhile) does not carry over either.
        let stranger = P384.Signing.PrivateKey()
        let strangeSigned = SignedInit(
            initMessage: other.initMessage,
            signature: try Signing.sign(other.initMessage.derBytes, label: .sessionInit, with: stranger))
        let strangeProof = try #require(
            HSMCore.verifySessionInit(strangeSigned, key: P384PublicKey(stranger.publicKey)))
        let notHis = world.a.handle(
            Envelope(id: 4, body: .sessionInit(strangeSigned)), now: world.now, random: &world.random,
            proof: .sessionInit(strangeProof))
        #expect(failureCode(notHis.answer.body) == .badSignature)
    }

    @Test func theHSMChecksTheOfferInOrder() throws {
        var world = try SessionWorld()
        // Another host key: unknown signature.
        var stranger = SessionHandshake(hostID: world.hostID, hostKey: P384.Signing.PrivateKey(), domain: world.state)
        let strangeOffer = try stranger.start(now: world.now, random: &world.random)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(strangeOffer), now: world.now, random: &world.random))
                == .badSignature)
        // An unknown host id.
        var unknown = SessionHandshake(hostID: "host-9", hostKey: world.hostKey, domain: world.state)
        let unknownOffer = try unknown.start(now: world.now, random: &world.random)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(unknownOffer), now: world.now, random: &world.random))
                == .unknownHost)
        // A clock too far off.
        let (_, skewed) = try world.offer(now: world.now.adding(seconds: 301))
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(skewed), now: world.now, random: &world.random))
                == .timeWindow)
        // A tampered Q1 or Sig1: Sig1 no longer verifies.
        let (_, offer) = try world.offer()
        let otherKey = P384PublicKey(P384.KeyAgreement.PrivateKey().publicKey)
        let m = offer.initMessage
        let swappedQ1 = SignedInit(
            initMessage: SessionInit(
                domainID: m.domainID, epoch: m.epoch, hostID: m.hostID, ephemeralKey: otherKey, time: m.time,
                nonce: m.nonce),
            signature: offer.signature)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(swappedQ1), now: world.now, random: &world.random))
                == .badSignature)
        var signature = offer.signature
        signature[signature.count - 1] ^= 1
        let badSig1 = SignedInit(initMessage: m, signature: signature)
        #expect(
            failureCode(SessionWorld.ask(&world.a, .sessionInit(badSig1), now: world.now, random: &world.random))
                == .badSignature)
    }

    @Test func theHostRefusesATamperedOrForeignAccept() throws {
        var world = try SessionWorld()
        func accept(_ world: inout SessionWorld) throws -> (SessionHandshake, SignedAccept) {
            let (handshake, offer) = try world.offer()
            guard
                case .accept(let accept) = SessionWorld.ask(
                    &world.a, .sessionInit(offer), now: world.now, random: &world.random)
            else {
                throw FixtureError()
            }
            return (handshake, accept)
        }
        func expect(_ code: HSMClientError.Code, _ handshake: SessionHandshake, _ accept: SignedAccept) {
            var handshake = handshake
            do {
                _ = try handshake.receive(accept: accept, now: world.now)
                Issue.record("the accept must be refused with \(code)")
            } catch {
                #expect(error.code == code)
            }
        }
        // Man in the middle: an accept re-signed by a key that is not the member's.
        let (h1, genuine) = try accept(&world)
        let mitm = HSMKeys.generate()
        expect(
            .badSignature, h1,
            SignedAccept(
                accept: genuine.accept, signature: try mitm.sign(genuine.accept.derBytes, label: .sessionAccept)))
        // An accept from an HSM that is not a member.
        let (h2, genuine2) = try accept(&world)
        let a = genuine2.accept
        let foreign = SessionAccept(
            hsmID: mitm.hsmID, ephemeralKey: a.ephemeralKey, initDigest: a.initDigest, esk: a.esk, ekt: a.ekt)
        expect(
            .unknownHSM, h2,
            SignedAccept(accept: foreign, signature: try mitm.sign(foreign.derBytes, label: .sessionAccept)))
        // Tampered Q2, ESK, EKT or Sig2: Sig2 no longer verifies.
        for part in 0..<4 {
            let (handshake, genuine) = try accept(&world)
            let a = genuine.accept
            var esk = a.esk
            var signature = genuine.signature
            var ektSealed = a.ekt.sealed
            switch part {
            case 1: esk[20] ^= 1
            case 2: ektSealed[20] ^= 1
            case 3: signature[signature.count - 1] ^= 1
            default: break
            }
            let q2 = part == 0 ? P384PublicKey(P384.KeyAgreement.PrivateKey().publicKey) : a.ephemeralKey
            let tampered = SessionAccept(
                hsmID: a.hsmID, ephemeralKey: q2, initDigest: a.initDigest, esk: esk,
                ekt: ExportedKeyToken(header: a.ekt.header, sealed: ektSealed))
            expect(.badSignature, handshake, SignedAccept(accept: tampered, signature: signature))
        }
        // A genuine accept for another offer.
        let (h3, _) = try accept(&world)
        let (_, other) = try accept(&world)
        expect(.badAccept, h3, other)
    }

    @Test func theReplayWindowMatchesAReferenceSet() throws {
        var generator = SystemRandomNumberGenerator()
        var windows = ReplayWindowsProbe()
        var seen: Set<Int64> = []
        var highest: Int64 = 0
        for _ in 0..<5000 {
            let id = highest + Int64.random(in: -1200...40, using: &generator)
            guard id >= 1 else { continue }
            let expectedRefusal = seen.contains(id) || (highest > 0 && id <= highest - 1024)
            let refused = !windows.accept(id)
            #expect(refused == expectedRefusal, "id \(id), highest \(highest)")
            if !refused {
                seen.insert(id)
                highest = max(highest, id)
            }
        }
    }
}

/// Drives the HSM's anti-replay through a real core: every accepted id is a served request.
struct ReplayWindowsProbe {
    var world = try! SessionWorld()  // A test helper: a failure to build the world fails loudly here.
    lazy var session: Session = try! world.session()

    mutating func accept(_ id: Int64) -> Bool {
        let session = self.session
        guard let answer = try? world.send(.generateRandom(length: 1), session: session, requestID: id) else {
            return false
        }
        if case .sessionResponse = answer { return true }
        return false
    }
}
