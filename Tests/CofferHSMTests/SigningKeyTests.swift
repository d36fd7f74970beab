import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto
import CryptoExtras
import Foundation
import Testing

/// The signing and MAC backing keys inside a session (docs/protocol.md, "Signing and MAC keys"): each
/// spec's token signs and verifies on either member, its public key checks its signatures with
/// swift-crypto outside the HSM, and every wrong kind, algorithm and message size is refused with its code.
@Suite struct SigningKeyTests {
    static let keyID = [UInt8](repeating: 1, count: 16)

    static func create(_ spec: String, _ world: inout SessionWorld, _ session: Session) throws -> ExportedKeyToken {
        guard
            case .token(let token) = try world.run(
                .createBackingKey(keyID: keyID, backingKeyID: [UInt8](repeating: 2, count: 16), spec: spec),
                session: session)
        else { throw FixtureError() }
        #expect(token.header.spec == spec)
        #expect(token.header.kind == .backingKey)
        return token
    }

    static func failure(_ result: SessionResult) -> Failure.Code? {
        if case .failure(let failure) = result { return failure.code }
        return nil
    }

    static let message = SecretBytes(copying: Array("a message to sign".utf8))

    @Test(arguments: [
        ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"), ("ML_DSA_65", "ML_DSA_SHAKE_256"),
        ("ML_DSA_87", "ML_DSA_SHAKE_256"),
    ])
    func signaturesVerifyInsideAndOutside(spec: String, algorithm: String) throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.create(spec, &world, session)
        guard case .publicKey(let spki) = try world.run(.publicKey(key: token), session: session, toB: true) else {
            throw FixtureError()
        }
        guard
            case .signature(let signature) = try world.run(
                .sign(key: token, algorithm: algorithm, messageType: .raw, message: Self.message), session: session)
        else { throw FixtureError() }
        // Outside the HSM, with swift-crypto and the SPKI alone.
        let bytes = Self.message.withUnsafeBytes { Data($0) }
        switch spec {
        case "ECC_NIST_P256":
            let key = try P256.Signing.PublicKey(derRepresentation: spki)
            #expect(key.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: bytes))
        case "ECC_NIST_P384":
            let key = try P384.Signing.PublicKey(derRepresentation: spki)
            #expect(key.isValidSignature(try P384.Signing.ECDSASignature(derRepresentation: signature), for: bytes))
        case "ECC_NIST_P521":
            let key = try P521.Signing.PublicKey(derRepresentation: spki)
            #expect(key.isValidSignature(try P521.Signing.ECDSASignature(derRepresentation: signature), for: bytes))
        case "ML_DSA_65":
            #expect(spki.count == 22 + 1952)
            let key = try MLDSA65.PublicKey(rawRepresentation: spki.suffix(1952))
            #expect(key.isValidSignature(signature, for: bytes))
        case "ML_DSA_87":
            #expect(spki.count == 22 + 2592)
            let key = try MLDSA87.PublicKey(rawRepresentation: spki.suffix(2592))
            #expect(key.isValidSignature(signature, for: bytes))
        default:
            #expect(
                spki.count == 44
                    && spki.prefix(12) == [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: spki.suffix(32))
            #expect(key.isValidSignature(signature, for: bytes))
        }
        // Inside, on the other member; a flipped bit anywhere in the signature or the message fails.
        let verify = { (signature: [UInt8], message: SecretBytes) throws -> SessionResult in
            try world.run(
                .verify(key: token, algorithm: algorithm, messageType: .raw, message: message, signature: signature),
                session: session, toB: true)
        }
        #expect(try verify(signature, Self.message) == .verified(true))
        for index in [0, signature.count / 2, signature.count - 1] {
            var flipped = signature
            flipped[index] ^= 0x01
            #expect(try verify(flipped, Self.message) == .verified(false))
        }
        #expect(try verify(signature, SecretBytes(copying: Array("a message to sigN".utf8))) == .verified(false))
        // The wrong algorithm, and MAC commands on a signing key.
        #expect(
            Self.failure(
                try world.run(
                    .sign(key: token, algorithm: "ECDSA_SHA_999", messageType: .raw, message: Self.message),
                    session: session)) == .invalidArgument)
        #expect(
            Self.failure(
                try world.run(.generateMac(key: token, algorithm: algorithm, message: Self.message), session: session))
                == .wrongKind)
        #expect(
            Self.failure(
                try world.run(
                    .encrypt(key: token, plaintext: Self.message, context: .empty), session: session)) == .wrongKind)
    }

    @Test func digestsMustBeTheHashSizeAndEd25519TakesNone() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let p256 = try Self.create("ECC_NIST_P256", &world, session)
        let digest = Array(SHA256.hash(data: Array("digested".utf8)))
        guard
            case .signature(let signature) = try world.run(
                .sign(
                    key: p256, algorithm: "ECDSA_SHA_256", messageType: .digest, message: SecretBytes(copying: digest)),
                session: session)
        else { throw FixtureError() }
        // The signature over a digest is the signature over the message it digests.
        #expect(
            try world.run(
                .verify(
                    key: p256, algorithm: "ECDSA_SHA_256", messageType: .raw,
                    message: SecretBytes(copying: Array("digested".utf8)), signature: signature), session: session)
                == .verified(true))
        for size in [31, 33, 48] {
            #expect(
                Self.failure(
                    try world.run(
                        .sign(
                            key: p256, algorithm: "ECDSA_SHA_256", messageType: .digest,
                            message: SecretBytes(copying: [UInt8](repeating: 7, count: size))), session: session))
                    == .invalidArgument)
        }
        let ed25519 = try Self.create("ECC_NIST_EDWARDS25519", &world, session)
        #expect(
            Self.failure(
                try world.run(
                    .sign(
                        key: ed25519, algorithm: "ED25519_SHA_512", messageType: .digest,
                        message: SecretBytes(copying: [UInt8](repeating: 7, count: 64))), session: session))
                == .invalidArgument)
    }

    @Test(arguments: [
        ("HMAC_224", "HMAC_SHA_224", 28), ("HMAC_256", "HMAC_SHA_256", 32), ("HMAC_384", "HMAC_SHA_384", 48),
        ("HMAC_512", "HMAC_SHA_512", 64),
    ])
    func macsAreDeterministicAndVerifyInConstantTime(spec: String, algorithm: String, size: Int) throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.create(spec, &world, session)
        guard
            case .mac(let mac) = try world.run(
                .generateMac(key: token, algorithm: algorithm, message: Self.message), session: session)
        else { throw FixtureError() }
        #expect(mac.count == size)
        #expect(
            try world.run(
                .generateMac(key: token, algorithm: algorithm, message: Self.message), session: session, toB: true)
                == .mac(mac))
        let verify = { (mac: [UInt8]) throws -> SessionResult in
            try world.run(
                .verifyMac(key: token, algorithm: algorithm, message: Self.message, mac: mac), session: session)
        }
        #expect(try verify(mac) == .verified(true))
        #expect(try verify(Array(mac.dropLast())) == .verified(false))
        var flipped = mac
        flipped[size - 1] ^= 0x80
        #expect(try verify(flipped) == .verified(false))
        let other = try Self.create(spec, &world, session)
        #expect(
            try world.run(.generateMac(key: other, algorithm: algorithm, message: Self.message), session: session)
                != .mac(mac))
        #expect(Self.failure(try world.run(.publicKey(key: token), session: session)) == .wrongKind)
        #expect(
            Self.failure(
                try world.run(
                    .sign(key: token, algorithm: algorithm, messageType: .raw, message: Self.message), session: session)
            )
                == .wrongKind)
        #expect(
            Self.failure(
                try world.run(
                    .generateMac(key: token, algorithm: "HMAC_SHA_1", message: Self.message), session: session))
                == .invalidArgument)
    }

    @Test func symmetricTokensAndUnknownSpecsAreRefused() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let aes = try Self.create("AES_256", &world, session)
        #expect(Self.failure(try world.run(.publicKey(key: aes), session: session)) == .wrongKind)
        #expect(
            Self.failure(
                try world.run(
                    .generateMac(key: aes, algorithm: "HMAC_SHA_256", message: Self.message), session: session))
                == .wrongKind)
        for spec in ["HMAC_128", "RSA_1024", "ECC_SECG_P256K1", "ML_DSA_44", "aes_256"] {
            #expect(
                Self.failure(
                    try world.run(
                        .createBackingKey(keyID: Self.keyID, backingKeyID: Self.keyID, spec: spec), session: session))
                    == .unsupported, "\(spec)")
        }
    }

    @Test func rsaSignsRawAndDigestMessagesAndOpensOAEPCiphertextsMadeOutside() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.create("RSA_2048", &world, session)
        guard case .publicKey(let spki) = try world.run(.publicKey(key: token), session: session) else {
            throw FixtureError()
        }
        let signingKey = try _RSA.Signing.PublicKey(derRepresentation: spki)
        #expect(signingKey.keySizeInBits == 2048)
        let bytes = Self.message.withUnsafeBytes { Data($0) }
        for (algorithm, padding) in [
            ("RSASSA_PSS_SHA_256", _RSA.Signing.Padding.PSS), ("RSASSA_PKCS1_V1_5_SHA_256", .insecurePKCS1v1_5),
        ] {
            guard
                case .signature(let signature) = try world.run(
                    .sign(key: token, algorithm: algorithm, messageType: .raw, message: Self.message),
                    session: session, toB: true)
            else { throw FixtureError() }
            #expect(signature.count == 256)
            #expect(
                signingKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: bytes),
                    padding: padding))
            #expect(
                try world.run(
                    .verify(
                        key: token, algorithm: algorithm, messageType: .raw, message: Self.message,
                        signature: signature), session: session) == .verified(true))
            // A DIGEST message signs as its RAW message: the signature verifies outside over the message.
            let digest = SecretBytes(copying: Array(SHA256.hash(data: bytes)))
            guard
                case .signature(let digestSignature) = try world.run(
                    .sign(key: token, algorithm: algorithm, messageType: .digest, message: digest), session: session)
            else { throw FixtureError() }
            #expect(
                signingKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: digestSignature), for: SHA256.hash(data: bytes),
                    padding: padding))
            #expect(
                try world.run(
                    .verify(
                        key: token, algorithm: algorithm, messageType: .digest, message: digest, signature: signature),
                    session: session) == .verified(true))
            #expect(
                Self.failure(
                    try world.run(
                        .sign(
                            key: token, algorithm: algorithm, messageType: .digest,
                            message: SecretBytes(copying: Array(SHA256.hash(data: bytes)).dropLast())),
                        session: session))
                    == .invalidArgument)
        }
        // OAEP: a ciphertext made outside with the public key opens inside, under its algorithm only.
        let encryptionKey = try _RSA.Encryption.PublicKey(derRepresentation: spki)
        let outside = Array(try encryptionKey.encrypt(bytes, padding: .PKCS1_OAEP_SHA256))
        #expect(
            try world.run(
                .asymmetricDecrypt(key: token, algorithm: "RSAES_OAEP_SHA_256", ciphertext: outside), session: session)
                == .plaintext(keyID: Self.keyID, plaintext: Self.message))
        #expect(
            Self.failure(
                try world.run(
                    .asymmetricDecrypt(key: token, algorithm: "RSAES_OAEP_SHA_1", ciphertext: outside), session: session
                ))
                == .invalidCiphertext)
        #expect(
            Self.failure(
                try world.run(
                    .asymmetricEncrypt(
                        key: token, algorithm: "RSAES_OAEP_SHA_256",
                        plaintext: SecretBytes(copying: [UInt8](repeating: 1, count: 191))), session: session))
                == .invalidArgument)
        #expect(
            Self.failure(
                try world.run(
                    .asymmetricEncrypt(key: token, algorithm: "RSASSA_PSS_SHA_256", plaintext: Self.message),
                    session: session)) == .invalidArgument)
        let ecc = try Self.create("ECC_NIST_P256", &world, session)
        #expect(
            Self.failure(
                try world.run(
                    .asymmetricDecrypt(key: ecc, algorithm: "RSAES_OAEP_SHA_256", ciphertext: outside), session: session
                ))
                == .invalidArgument)
    }

    /// reEncryptWith: RSA-OAEP to a §8 blob and back, the plaintext inside; an RSA side takes no context
    /// and a plaintext too long for an RSA destination is refused.
    @Test func reEncryptWithMovesBetweenRSAAndSymmetricKeys() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let rsa = try Self.create("RSA_2048", &world, session)
        let aes = try Self.create("AES_256", &world, session)
        guard case .publicKey(let spki) = try world.run(.publicKey(key: rsa), session: session) else {
            throw FixtureError()
        }
        let bytes = Self.message.withUnsafeBytes { Data($0) }
        let outside = Array(try _RSA.Encryption.PublicKey(derRepresentation: spki).encrypt(bytes, padding: .PKCS1_OAEP))
        let context = try EncryptionContext(["purpose": "test"])
        guard
            case .ciphertext(let blob) = try world.run(
                .reEncryptWith(
                    source: rsa, sourceAlgorithm: "RSAES_OAEP_SHA_1", ciphertext: outside, sourceContext: .empty,
                    destination: aes, destinationAlgorithm: "SYMMETRIC_DEFAULT", destinationContext: context),
                session: session)
        else { throw FixtureError() }
        #expect(
            try world.run(.decrypt(key: aes, ciphertext: blob, context: context), session: session)
                == .plaintext(keyID: Self.keyID, plaintext: Self.message))
        guard
            case .ciphertext(let back) = try world.run(
                .reEncryptWith(
                    source: aes, sourceAlgorithm: "SYMMETRIC_DEFAULT", ciphertext: blob, sourceContext: context,
                    destination: rsa, destinationAlgorithm: "RSAES_OAEP_SHA_256", destinationContext: .empty),
                session: session)
        else { throw FixtureError() }
        #expect(
            try world.run(
                .asymmetricDecrypt(key: rsa, algorithm: "RSAES_OAEP_SHA_256", ciphertext: back), session: session)
                == .plaintext(keyID: Self.keyID, plaintext: Self.message))
        let long = try world.run(
            .encrypt(key: aes, plaintext: SecretBytes(copying: [UInt8](repeating: 2, count: 300)), context: .empty),
            session: session)
        guard case .ciphertext(let longBlob) = long else { throw FixtureError() }
        let refusals: [SessionCommand] = [
            .reEncryptWith(
                source: rsa, sourceAlgorithm: "RSAES_OAEP_SHA_1", ciphertext: outside, sourceContext: context,
                destination: aes, destinationAlgorithm: "SYMMETRIC_DEFAULT", destinationContext: .empty),
            .reEncryptWith(
                source: aes, sourceAlgorithm: "SYMMETRIC_DEFAULT", ciphertext: blob, sourceContext: context,
                destination: rsa, destinationAlgorithm: "RSAES_OAEP_SHA_256", destinationContext: context),
            .reEncryptWith(
                source: aes, sourceAlgorithm: "SYMMETRIC_DEFAULT", ciphertext: longBlob, sourceContext: .empty,
                destination: rsa, destinationAlgorithm: "RSAES_OAEP_SHA_256", destinationContext: .empty),
        ]
        for command in refusals {
            #expect(Self.failure(try world.run(command, session: session)) == .invalidArgument)
        }
        #expect(
            Self.failure(
                try world.run(
                    .reEncryptWith(
                        source: rsa, sourceAlgorithm: "SYMMETRIC_DEFAULT", ciphertext: outside, sourceContext: .empty,
                        destination: aes, destinationAlgorithm: "SYMMETRIC_DEFAULT", destinationContext: .empty),
                    session: session)) == .wrongKind)
    }

    @Test func sharedSecretsEqualECDHOutsideAndPeersOnOtherCurvesAreRefused() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.create("ECC_NIST_P384", &world, session)
        guard case .publicKey(let spki) = try world.run(.publicKey(key: token), session: session) else {
            throw FixtureError()
        }
        let peer = P384.KeyAgreement.PrivateKey()
        guard
            case .sharedSecret(let secret) = try world.run(
                .deriveSharedSecret(key: token, peer: Array(peer.publicKey.derRepresentation)), session: session,
                toB: true)
        else { throw FixtureError() }
        let outside = try peer.sharedSecretFromKeyAgreement(
            with: try P384.KeyAgreement.PublicKey(derRepresentation: spki))
        #expect(secret == outside.withUnsafeBytes { SecretBytes(copying: $0) })
        #expect(secret.count == 48)
        // The peer's own P-384 point, its SPKI relabelled secp256k1 (1.3.132.0.34 → 1.3.132.0.10, same
        // length): swift-crypto alone would read the point; only the algorithm identifier tells.
        var relabelled = Array(peer.publicKey.derRepresentation)
        let curveOID: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x22]
        let at = try #require((0...(relabelled.count - 5)).first { Array(relabelled[$0..<$0 + 5]) == curveOID })
        relabelled[at + 4] = 0x0a
        #expect((try? P384.KeyAgreement.PublicKey(derRepresentation: relabelled)) != nil)
        for bad in [
            Array(P256.KeyAgreement.PrivateKey().publicKey.derRepresentation), [0x30, 0x00],
            Array(spki.dropLast()), relabelled,
        ] {
            #expect(
                Self.failure(try world.run(.deriveSharedSecret(key: token, peer: bad), session: session))
                    == .invalidArgument)
        }
        let ed25519 = try Self.create("ECC_NIST_EDWARDS25519", &world, session)
        #expect(
            Self.failure(try world.run(.deriveSharedSecret(key: ed25519, peer: spki), session: session)) == .wrongKind)
        let hmac = try Self.create("HMAC_256", &world, session)
        #expect(Self.failure(try world.run(.deriveSharedSecret(key: hmac, peer: spki), session: session)) == .wrongKind)
    }

    @Test func dataKeyPairsAreSealedUnderTheSymmetricKeyAndMatchTheirPublicKeys() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let aes = try Self.create("AES_256", &world, session)
        let context = try EncryptionContext(["pair": "test"])
        guard
            case .dataKeyPair(let privateKey?, let blob, let publicKey) = try world.run(
                .generateDataKeyPair(key: aes, pairSpec: "ECC_NIST_P256", context: context, returnPlaintext: true),
                session: session)
        else { throw FixtureError() }
        let parsed = try privateKey.withUnsafeBytes { try P256.Signing.PrivateKey(derRepresentation: $0) }
        #expect(Array(parsed.publicKey.derRepresentation) == publicKey)
        #expect(
            try world.run(.decrypt(key: aes, ciphertext: blob, context: context), session: session, toB: true)
                == .plaintext(keyID: Self.keyID, plaintext: privateKey))
        guard
            case .dataKeyPair(nil, _, let edPublic) = try world.run(
                .generateDataKeyPair(
                    key: aes, pairSpec: "ECC_NIST_EDWARDS25519", context: .empty, returnPlaintext: false),
                session: session)
        else { throw FixtureError() }
        #expect(edPublic.count == 44)
        for spec in ["HMAC_256", "AES_256", "SM2"] {
            #expect(
                Self.failure(
                    try world.run(
                        .generateDataKeyPair(key: aes, pairSpec: spec, context: .empty, returnPlaintext: true),
                        session: session)) == .unsupported, "\(spec)")
        }
        let signing = try Self.create("ECC_NIST_P256", &world, session)
        #expect(
            Self.failure(
                try world.run(
                    .generateDataKeyPair(
                        key: signing, pairSpec: "ECC_NIST_P256", context: .empty, returnPlaintext: true),
                    session: session)) == .wrongKind)
    }

    @Test func importedMaterialIsUnwrappedCheckedAndIdentifiedByItsId() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let now = world.now
        let notAfter = WireTime(secondsSinceEpoch: now.secondsSinceEpoch + 3600)
        func parameters(_ wrapping: String) throws -> (ExportedKeyToken, _RSA.Encryption.PublicKey) {
            guard
                case .importParameters(let token, let spki) = try world.run(
                    .createImportWrapping(
                        keyID: Self.keyID, importID: [UInt8](repeating: 5, count: 16), wrapping: wrapping,
                        notAfter: notAfter), session: session)
            else { throw FixtureError() }
            #expect(token.header.kind == .importWrapping && token.header.spec == wrapping)
            #expect(token.header.notAfter == notAfter)
            return (token, try _RSA.Encryption.PublicKey(derRepresentation: spki))
        }
        let material = SecretBytes(copying: [UInt8](repeating: 0x42, count: 32))
        let bytes = material.withUnsafeBytes { Data($0) }
        // RSAES_OAEP_SHA_256.
        let (oaepToken, oaepKey) = try parameters("RSA_2048/RSAES_OAEP_SHA_256")
        let encrypted = Array(try oaepKey.encrypt(bytes, padding: .PKCS1_OAEP_SHA256))
        guard
            case .importedKey(let first, let id) = try world.run(
                .importKeyMaterial(wrapping: oaepToken, encrypted: encrypted, spec: "AES_256"), session: session,
                toB: true)
        else { throw FixtureError() }
        #expect(first.header.kind == .backingKey && first.header.subject == Self.keyID + id.prefix(16))
        // RSA_AES_KEY_WRAP_SHA_256: the same material, under another wrapping, has the same id.
        let (wrapToken, wrapKey) = try parameters("RSA_3072/RSA_AES_KEY_WRAP_SHA_256")
        let aes = SymmetricKey(size: .bits256)
        let wrapped =
            Array(try aes.withUnsafeBytes { try wrapKey.encrypt(Data($0), padding: .PKCS1_OAEP_SHA256) })
            + (try KeyWrapWithPadding.wrap(material, kek: aes))
        guard
            case .importedKey(_, let again) = try world.run(
                .importKeyMaterial(wrapping: wrapToken, encrypted: wrapped, spec: "AES_256"), session: session)
        else { throw FixtureError() }
        #expect(again == id)
        // The imported key encrypts and decrypts like any backing key.
        guard
            case .ciphertext(let blob) = try world.run(
                .encrypt(key: first, plaintext: Self.message, context: .empty), session: session)
        else { throw FixtureError() }
        #expect(
            try world.run(.decrypt(key: first, ciphertext: blob, context: .empty), session: session)
                == .plaintext(keyID: Self.keyID, plaintext: Self.message))
        // ValidTo becomes the token's notAfter: after it, no HSM opens the material.
        let validTo = WireTime(secondsSinceEpoch: world.now.secondsSinceEpoch + 60)
        guard
            case .importedKey(let expiring, _) = try world.run(
                .importKeyMaterial(wrapping: oaepToken, encrypted: encrypted, spec: "AES_256", validTo: validTo),
                session: session)
        else { throw FixtureError() }
        #expect(expiring.header.notAfter == validTo)
        #expect(
            try world.run(.decrypt(key: expiring, ciphertext: blob, context: .empty), session: session)
                == .plaintext(keyID: Self.keyID, plaintext: Self.message))
        let lateID = world.nextID + 1
        guard
            case .sessionResponse(let late) = try world.send(
                .decrypt(key: expiring, ciphertext: blob, context: .empty), session: session, requestID: lateID,
                now: WireTime(secondsSinceEpoch: validTo.secondsSinceEpoch + 1))
        else { throw FixtureError() }
        #expect(Self.failure(try session.open(late, requestID: lateID)) == .timeWindow)
        // Refusals: wrong length, wrapped for another token, a tampered ciphertext, a backing-key token as
        // the wrapping token, an unsupported wrapping, a lifetime over 24 hours.
        let short = Array(try oaepKey.encrypt(Data(repeating: 1, count: 16), padding: .PKCS1_OAEP_SHA256))
        let cases: [(SessionCommand, Failure.Code)] = [
            (.importKeyMaterial(wrapping: oaepToken, encrypted: short, spec: "AES_256"), .invalidArgument),
            (.importKeyMaterial(wrapping: wrapToken, encrypted: encrypted, spec: "AES_256"), .invalidCiphertext),
            (
                .importKeyMaterial(wrapping: oaepToken, encrypted: encrypted.reversed(), spec: "AES_256"),
                .invalidCiphertext
            ),
            (.importKeyMaterial(wrapping: first, encrypted: encrypted, spec: "AES_256"), .wrongKind),
            (.importKeyMaterial(wrapping: oaepToken, encrypted: encrypted, spec: "ML_DSA_44"), .unsupported),
            (.importKeyMaterial(wrapping: oaepToken, encrypted: encrypted, spec: "ML_DSA_65"), .invalidArgument),
            (
                .createImportWrapping(
                    keyID: Self.keyID, importID: Self.keyID, wrapping: "RSA_2048/RSAES_PKCS1_V1_5", notAfter: notAfter),
                .unsupported
            ),
            (
                .createImportWrapping(
                    keyID: Self.keyID, importID: Self.keyID, wrapping: "RSA_2048/RSAES_OAEP_SHA_1",
                    notAfter: WireTime(secondsSinceEpoch: now.secondsSinceEpoch + 86_400 + 3_601)),
                .invalidArgument
            ),
        ]
        for (command, code) in cases {
            #expect(Self.failure(try world.run(command, session: session)) == code, "\(command.tag)")
        }
    }
}
