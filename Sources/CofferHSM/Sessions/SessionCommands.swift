import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// The session commands of PROTOCOL §7 and the §8 blob. None changes HSM state (a captured request can
/// be served once by each member), except the per-domain-key seal counter, which only grows.
enum SessionCommands {
    /// Backing key specs this HSM creates.
    static let symmetricSpec = "AES_256"
    /// The algorithm name of a §8 blob under a symmetric key (reEncryptWith).
    static let symmetricAlgorithm = "SYMMETRIC_DEFAULT"

    static func execute(
        _ command: SessionCommand, membership: DomainMembership, now: WireTime, usage: inout DomainKeyUsage,
        opened: inout OpenedTokens, random: inout some RandomSource
    ) throws(Failure) -> SessionResult {
        switch command {
        case .generateRandom(let length):
            return .random(random.secret(count: length))
        case .createBackingKey(let keyID, let backingKeyID, let spec):
            let material: SecretBytes
            if spec == symmetricSpec {
                material = random.secret(count: 32)
            } else if let signing = SigningKeys.Spec(rawValue: spec) {
                material = try SigningKeys.generate(signing, random: &random)
            } else {
                throw Failure(.unsupported, "backing key spec \(spec) is not supported")
            }
            return .token(
                try seal(
                    material, kind: .backingKey, subject: keyID + backingKeyID, spec: spec,
                    membership: membership, now: now, usage: &usage))
        case .encrypt(let key, let plaintext, let context):
            let (hbk, keyID, backingKeyID) = try backingKey(key, membership: membership, now: now, opened: &opened)
            return .ciphertext(
                try encrypt(plaintext, hbk: hbk, keyID: keyID, backingKeyID: backingKeyID, context: context))
        case .decrypt(let key, let ciphertext, let context):
            let (keyID, plaintext) = try decrypt(
                ciphertext, key: key, context: context, membership: membership, now: now, opened: &opened)
            return .plaintext(keyID: keyID, plaintext: plaintext)
        case .reEncrypt(let source, let ciphertext, let sourceContext, let destination, let destinationContext):
            let (_, plaintext) = try decrypt(
                ciphertext, key: source, context: sourceContext, membership: membership, now: now, opened: &opened)
            let (hbk, keyID, backingKeyID) = try backingKey(
                destination, membership: membership, now: now, opened: &opened)
            return .ciphertext(
                try encrypt(plaintext, hbk: hbk, keyID: keyID, backingKeyID: backingKeyID, context: destinationContext))
        case .reEncryptWith(
            let source, let sourceAlgorithm, let ciphertext, let sourceContext, let destination,
            let destinationAlgorithm, let destinationContext):
            // An RSA side takes no context (AWS's rule for asymmetric keys).
            let plaintext: SecretBytes
            if sourceAlgorithm == symmetricAlgorithm {
                (_, plaintext) = try decrypt(
                    ciphertext, key: source, context: sourceContext, membership: membership, now: now, opened: &opened)
            } else {
                guard sourceContext.pairs.isEmpty else {
                    throw Failure(.invalidArgument, "an RSA ciphertext has no encryption context")
                }
                plaintext = try signingKey(
                    source, algorithm: sourceAlgorithm, membership: membership, now: now, opened: &opened
                )
                .decrypt(ciphertext, algorithm: sourceAlgorithm)
            }
            if destinationAlgorithm == symmetricAlgorithm {
                let (hbk, keyID, backingKeyID) = try backingKey(
                    destination, membership: membership, now: now, opened: &opened)
                return .ciphertext(
                    try encrypt(
                        plaintext, hbk: hbk, keyID: keyID, backingKeyID: backingKeyID, context: destinationContext))
            }
            guard destinationContext.pairs.isEmpty else {
                throw Failure(.invalidArgument, "an RSA ciphertext has no encryption context")
            }
            return .ciphertext(
                try signingKey(
                    destination, algorithm: destinationAlgorithm, membership: membership, now: now, opened: &opened
                )
                .encrypt(plaintext, algorithm: destinationAlgorithm))
        case .generateDataKey(let key, let length, let context, let returnPlaintext):
            let (hbk, keyID, backingKeyID) = try backingKey(key, membership: membership, now: now, opened: &opened)
            let dataKey = random.secret(count: length)
            let blob = try encrypt(dataKey, hbk: hbk, keyID: keyID, backingKeyID: backingKeyID, context: context)
            return .dataKey(plaintext: returnPlaintext ? dataKey : nil, ciphertext: blob)
        case .rewrapToken(let token):
            let material = try TokenOpener.open(token, membership: membership, now: now)
            let h = token.header
            return .token(
                try seal(
                    material, kind: h.kind, subject: h.subject, spec: h.spec, membership: membership,
                    now: h.notBefore, notAfter: h.notAfter, usage: &usage))
        case .sign(let key, let algorithm, let messageType, let message):
            return .signature(
                try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened).sign(
                    message, messageType, algorithm: algorithm))
        case .verify(let key, let algorithm, let messageType, let message, let signature):
            return .verified(
                try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened)
                    .verify(signature, message, messageType, algorithm: algorithm))
        case .generateMac(let key, let algorithm, let message):
            return .mac(
                try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened).mac(
                    message))
        case .verifyMac(let key, let algorithm, let message, let mac):
            return .verified(
                try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened).verifyMac(
                    mac, message))
        case .asymmetricEncrypt(let key, let algorithm, let plaintext):
            return .ciphertext(
                try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened)
                    .encrypt(plaintext, algorithm: algorithm))
        case .asymmetricDecrypt(let key, let algorithm, let ciphertext):
            let plaintext = try signingKey(key, algorithm: algorithm, membership: membership, now: now, opened: &opened)
                .decrypt(ciphertext, algorithm: algorithm)
            return .plaintext(keyID: Array(key.header.subject.prefix(16)), plaintext: plaintext)
        case .generateDataKeyPair(let key, let pairSpec, let context, let returnPlaintext):
            guard let spec = SigningKeys.Spec(rawValue: pairSpec), !spec.isMAC, spec != .mlDSA65, spec != .mlDSA87
            else {
                throw Failure(.unsupported, "data key pair spec \(pairSpec) is not supported")
            }
            let (hbk, keyID, backingKeyID) = try backingKey(key, membership: membership, now: now, opened: &opened)
            let privateKey = try SigningKeys.generate(spec, random: &random)
            let publicKey = try SigningKeys.Key(privateKey, spec: spec).publicKey
            let blob = try encrypt(privateKey, hbk: hbk, keyID: keyID, backingKeyID: backingKeyID, context: context)
            return .dataKeyPair(
                privateKey: returnPlaintext ? privateKey : nil, privateKeyCiphertext: blob, publicKey: publicKey)
        case .createImportWrapping(let keyID, let importID, let wrapping, let notAfter):
            let (spec, _) = try KeyImport.wrapping(wrapping)
            // 24 hours by the host's clock, which may run up to clockSkew ahead of this one.
            let skew = Int64(membership.state.parameters.clockSkew)
            guard notAfter > now, notAfter.secondsSinceEpoch - now.secondsSinceEpoch <= KeyImport.lifetime + skew else {
                throw Failure(.invalidArgument, "an import token lives at most 24 hours")
            }
            let material = try SigningKeys.generate(spec, random: &random)
            let publicKey = try SigningKeys.Key(material, spec: spec).publicKey
            return .importParameters(
                token: try seal(
                    material, kind: .importWrapping, subject: keyID + importID, spec: wrapping, membership: membership,
                    now: now, notAfter: notAfter, usage: &usage),
                publicKey: publicKey)
        case .importKeyMaterial(let wrapping, let encrypted, let spec, let validTo):
            guard wrapping.header.kind == .importWrapping, wrapping.header.notAfter != nil else {
                throw Failure(.wrongKind, "not an import token")
            }
            // The host checked ValidTo against its clock, which may run up to clockSkew behind this one.
            if let validTo,
                validTo.secondsSinceEpoch + Int64(membership.state.parameters.clockSkew) <= now.secondsSinceEpoch
            {
                throw Failure(.invalidArgument, "validTo has passed")
            }
            let (wrappingSpec, algorithm) = try KeyImport.wrapping(wrapping.header.spec)
            let opened = try SigningKeys.Key(
                try TokenOpener.open(wrapping, membership: membership, now: now), spec: wrappingSpec)
            guard case .rsa(let wrappingKey, _) = opened else { throw Failure(.wrongKind, "not an RSA wrapping key") }
            let keyID = Array(wrapping.header.subject.prefix(16))
            let material = try KeyImport.normalize(
                try KeyImport.unwrap(encrypted, key: wrappingKey, algorithm: algorithm), spec: spec)
            let materialID = KeyImport.materialID(keyID: keyID, material: material)
            return .importedKey(
                token: try seal(
                    material, kind: .backingKey, subject: keyID + materialID.prefix(16), spec: spec,
                    membership: membership, now: now, notAfter: validTo, usage: &usage),
                keyMaterialID: materialID)
        case .sealAccessKey(let binding, let secret):
            return .token(
                try seal(
                    secret, kind: .backingKey, subject: binding + random.bytes(count: 16), spec: AccessKeys.spec,
                    membership: membership, now: now, usage: &usage))
        case .deriveSigV4DateKey(let key, let day):
            return .sharedSecret(try AccessKeys.dateKey(key, day: day, membership: membership, now: now))
        case .deriveSharedSecret(let key, let peer):
            return .sharedSecret(
                try signingKey(key, algorithm: nil, membership: membership, now: now, opened: &opened).sharedSecret(
                    with: peer))
        case .publicKey(let key):
            let signing = try signingKey(key, algorithm: nil, membership: membership, now: now, opened: &opened)
            guard case .hmac = signing else { return .publicKey(signing.publicKey) }
            throw Failure(.wrongKind, "an HMAC key has no public key")
        }
    }

    /// Opens a signing or MAC backing-key token; `algorithm`, when given, must be its spec's
    /// (`invalidArgument`).
    private static func signingKey(
        _ token: ExportedKeyToken, algorithm: String?, membership: DomainMembership, now: WireTime,
        opened: inout OpenedTokens
    ) throws(Failure) -> SigningKeys.Key {
        guard token.header.kind == .backingKey, let spec = SigningKeys.Spec(rawValue: token.header.spec) else {
            throw Failure(.wrongKind, "not a signing or MAC backing key token")
        }
        if let algorithm, !spec.algorithms.contains(algorithm) {
            throw Failure(.invalidArgument, "\(algorithm) is not the algorithm of a \(spec.rawValue) key")
        }
        return try SigningKeys.Key(try opened.open(token, membership: membership, now: now), spec: spec)
    }

    /// A new token under the active domain key.
    static func seal(
        _ material: SecretBytes, kind: ExportedKeyToken.Kind, subject: [UInt8], spec: String,
        membership: DomainMembership, now: WireTime, notAfter: WireTime? = nil, usage: inout DomainKeyUsage
    ) throws(Failure) -> ExportedKeyToken {
        guard let active = membership.keys.first else { throw Failure(.internal, "no domain key") }
        try usage.count(active.keyID)
        let header = ExportedKeyToken.Header(
            domainID: membership.state.domainID, domainKeyID: active.keyID, kind: kind, subject: subject, spec: spec,
            notBefore: now, notAfter: notAfter)
        do {
            return ExportedKeyToken(
                header: header, sealed: try AEAD.seal(material, key: active.material.symmetricKey, aad: header.derBytes)
            )
        } catch {
            throw Failure(.internal, "sealing a token failed")
        }
    }

    /// Opens a symmetric backing-key token: `(HBK, keyID, backingKeyID)`.
    private static func backingKey(
        _ token: ExportedKeyToken, membership: DomainMembership, now: WireTime, opened: inout OpenedTokens
    ) throws(Failure) -> (SymmetricKey, [UInt8], [UInt8]) {
        guard token.header.kind == .backingKey, token.header.spec == symmetricSpec else {
            throw Failure(.wrongKind, "not a symmetric backing key token")
        }
        let material = try opened.open(token, membership: membership, now: now)
        guard material.count == 32 else { throw Failure(.wrongKind, "a symmetric backing key is 32 bytes") }
        let subject = token.header.subject
        return (material.symmetricKey, Array(subject[0..<16]), Array(subject[16..<32]))
    }

    private static func encrypt(
        _ plaintext: SecretBytes, hbk: SymmetricKey, keyID: [UInt8], backingKeyID: [UInt8], context: EncryptionContext
    ) throws(Failure) -> [UInt8] {
        do {
            return try CiphertextBlob.seal(
                plaintext, backingKey: hbk, keyID: keyID, backingKeyID: backingKeyID, context: context
            ).bytes
        } catch {
            throw Failure(.invalidArgument, "the plaintext cannot be sealed")
        }
    }

    /// Opens a blob with the backing key it names; `incorrectKey` if the token is another key's.
    private static func decrypt(
        _ ciphertext: [UInt8], key: ExportedKeyToken, context: EncryptionContext, membership: DomainMembership,
        now: WireTime, opened: inout OpenedTokens
    ) throws(Failure) -> ([UInt8], SecretBytes) {
        let (hbk, keyID, backingKeyID) = try backingKey(key, membership: membership, now: now, opened: &opened)
        let blob: CiphertextBlob
        do {
            blob = try CiphertextBlob(bytes: ciphertext)
        } catch {
            throw Failure(.invalidCiphertext, "not a Coffer ciphertext")
        }
        guard blob.keyID == keyID, blob.backingKeyID == backingKeyID else {
            throw Failure(.incorrectKey, "the ciphertext was made under another key")
        }
        do {
            return (keyID, try blob.open(backingKey: hbk, context: context))
        } catch {
            throw Failure(.invalidCiphertext, "the ciphertext does not open under this key and encryption context")
        }
    }
}
