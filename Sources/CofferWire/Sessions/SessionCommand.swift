import CofferCrypto
import SwiftASN1

/// `SessionCommand` (PROTOCOL §7): what a host asks an HSM to do inside a session. A CHOICE with
/// EXPLICIT alternatives `[0]` … `[20]` (`[7]` and up: docs/protocol.md, "Signing and MAC keys"). Its DER
/// holds plaintexts, so it is encoded and decoded
/// through ``SecretBytes`` (``secretDER`` / ``init(secretDER:)``).
public enum SessionCommand: Sendable, Equatable {
    /// `[0]`: `length` random bytes (1 … 1024).
    case generateRandom(length: Int)
    /// `[1]`: a new backing key for `keyID`, returned as a backingKey token.
    case createBackingKey(keyID: [UInt8], backingKeyID: [UInt8], spec: String)
    /// `[2]`: seal `plaintext` (1 … 4096 bytes) into a §8 blob.
    case encrypt(key: ExportedKeyToken, plaintext: SecretBytes, context: EncryptionContext)
    /// `[3]`: open a §8 blob.
    case decrypt(key: ExportedKeyToken, ciphertext: [UInt8], context: EncryptionContext)
    /// `[4]`: decrypt under `source`, encrypt under `destination`; the plaintext stays in the HSM.
    case reEncrypt(
        source: ExportedKeyToken, ciphertext: [UInt8], sourceContext: EncryptionContext,
        destination: ExportedKeyToken, destinationContext: EncryptionContext)
    /// `[5]`: a fresh data key of `length` bytes, sealed as a §8 blob and optionally returned.
    case generateDataKey(key: ExportedKeyToken, length: Int, context: EncryptionContext, returnPlaintext: Bool)
    /// `[6]`: the same token under the active domain key.
    case rewrapToken(token: ExportedKeyToken)
    /// `[7]`: a signature of `message` (raw, or the digest of its algorithm) with a signing key.
    case sign(key: ExportedKeyToken, algorithm: String, messageType: MessageType, message: SecretBytes)
    /// `[8]`: whether `signature` is the signing key's over `message`.
    case verify(
        key: ExportedKeyToken, algorithm: String, messageType: MessageType, message: SecretBytes, signature: [UInt8])
    /// `[9]`: the HMAC of `message` under an HMAC key.
    case generateMac(key: ExportedKeyToken, algorithm: String, message: SecretBytes)
    /// `[10]`: whether `mac` is the HMAC of `message` (compared in constant time).
    case verifyMac(key: ExportedKeyToken, algorithm: String, message: SecretBytes, mac: [UInt8])
    /// `[11]`: the public key of an asymmetric key, as a SubjectPublicKeyInfo.
    case publicKey(key: ExportedKeyToken)
    /// `[12]`: RSA-OAEP encryption of `plaintext` (1 … 4096 bytes; it must fit the key) under an RSA key.
    case asymmetricEncrypt(key: ExportedKeyToken, algorithm: String, plaintext: SecretBytes)
    /// `[13]`: RSA-OAEP decryption of `ciphertext` (1 … 6144 bytes) with an RSA key.
    case asymmetricDecrypt(key: ExportedKeyToken, algorithm: String, ciphertext: [UInt8])
    /// `[14]`: the ECDH shared secret of an ECC key and a peer's public key (a SubjectPublicKeyInfo).
    case deriveSharedSecret(key: ExportedKeyToken, peer: [UInt8])
    /// `[16]`: a new RSA wrapping key for importing material into `keyID`, as an importWrapping token
    /// valid until `notAfter`; `wrapping` is `<WrappingKeySpec>/<WrappingAlgorithm>`, e.g.
    /// `RSA_2048/RSAES_OAEP_SHA_256`.
    case createImportWrapping(keyID: [UInt8], importID: [UInt8], wrapping: String, notAfter: WireTime)
    /// `[17]`: key material encrypted under an importWrapping token, unwrapped and checked for `spec`,
    /// sealed as a backing-key token `keyID ‖ backingKeyID`, where the backingKeyID is the first 16 bytes
    /// of the material's id: the same material always has the same backing key, so its ciphertexts open
    /// again after a delete and re-import. `validTo`, when given, is the backing-key token's `notAfter`:
    /// material that expires (AWS's ValidTo) is refused by every HSM after it, whatever the store says.
    case importKeyMaterial(wrapping: ExportedKeyToken, encrypted: [UInt8], spec: String, validTo: WireTime? = nil)
    /// `[18]`: `reEncrypt` where either side may be an RSA key: `sourceAlgorithm` and
    /// `destinationAlgorithm` say how each side's ciphertext is made (`SYMMETRIC_DEFAULT`: a §8 blob under
    /// a symmetric key, with its context; `RSAES_OAEP_SHA_1` or `RSAES_OAEP_SHA_256`: RSA-OAEP under an
    /// RSA key, with an empty context). The plaintext stays in the HSM.
    case reEncryptWith(
        source: ExportedKeyToken, sourceAlgorithm: String, ciphertext: [UInt8], sourceContext: EncryptionContext,
        destination: ExportedKeyToken, destinationAlgorithm: String, destinationContext: EncryptionContext)
    /// `[19]`: seal a secret access key as a `SIGV4_SECRET` backing-key token whose subject is `binding ‖
    /// 16 random bytes` (docs/protocol.md, "Access keys"); only `deriveSigV4DateKey` opens it.
    case sealAccessKey(binding: [UInt8], secret: SecretBytes)
    /// `[20]`: SigV4's day key `kDate = HMAC-SHA-256("AWS4" ‖ secret, day)` of a `SIGV4_SECRET` token, for a
    /// `day` (`yyyyMMdd`) within one day of the HSM's clock; answered with `sharedSecret`.
    case deriveSigV4DateKey(key: ExportedKeyToken, day: String)
    /// `[15]`: a fresh key pair of `pairSpec`, its private key (PKCS#8) sealed as a §8 blob under a
    /// symmetric key, and returned when asked for.
    case generateDataKeyPair(
        key: ExportedKeyToken, pairSpec: String, context: EncryptionContext, returnPlaintext: Bool)

    /// How a `sign` or `verify` message is given: `ENUMERATED { raw(0), digest(1) }`.
    public enum MessageType: Int64, Sendable, CaseIterable, Hashable {
        /// The message itself; the HSM hashes it as the algorithm says.
        case raw = 0
        /// The digest of the algorithm's hash, computed by the caller.
        case digest = 1
    }

    /// The alternative's tag number.
    public var tag: UInt {
        switch self {
        case .generateRandom: 0
        case .createBackingKey: 1
        case .encrypt: 2
        case .decrypt: 3
        case .reEncrypt: 4
        case .generateDataKey: 5
        case .rewrapToken: 6
        case .sign: 7
        case .verify: 8
        case .generateMac: 9
        case .verifyMac: 10
        case .publicKey: 11
        case .asymmetricEncrypt: 12
        case .asymmetricDecrypt: 13
        case .deriveSharedSecret: 14
        case .generateDataKeyPair: 15
        case .createImportWrapping: 16
        case .importKeyMaterial: 17
        case .reEncryptWith: 18
        case .sealAccessKey: 19
        case .deriveSigV4DateKey: 20
        }
    }

    /// Writes the command's DER (which may contain a plaintext: prefer ``secretDER``).
    public func serialize(into coder: inout DERWriter) {
        coder.appendExplicit(tag) { c in
            c.appendSequence { c in
                switch self {
                case .generateRandom(let length):
                    c.appendInteger(length)
                case .createBackingKey(let keyID, let backingKeyID, let spec):
                    c.appendOctets(keyID)
                    c.appendOctets(backingKeyID)
                    c.appendUTF8(spec)
                case .encrypt(let key, let plaintext, let context):
                    c.append(key)
                    plaintext.withUnsafeBytes { c.appendOctets($0) }
                    c.append(context)
                case .decrypt(let key, let ciphertext, let context):
                    c.append(key)
                    c.appendOctets(ciphertext)
                    c.append(context)
                case .reEncrypt(let source, let ciphertext, let sourceContext, let destination, let destinationContext):
                    c.append(source)
                    c.appendOctets(ciphertext)
                    c.append(sourceContext)
                    c.append(destination)
                    c.append(destinationContext)
                case .generateDataKey(let key, let length, let context, let returnPlaintext):
                    c.append(key)
                    c.appendInteger(length)
                    c.append(context)
                    c.appendBoolean(returnPlaintext)
                case .rewrapToken(let token):
                    c.append(token)
                case .sign(let key, let algorithm, let messageType, let message):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    c.appendEnumerated(messageType.rawValue)
                    message.withUnsafeBytes { c.appendOctets($0) }
                case .verify(let key, let algorithm, let messageType, let message, let signature):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    c.appendEnumerated(messageType.rawValue)
                    message.withUnsafeBytes { c.appendOctets($0) }
                    c.appendOctets(signature)
                case .generateMac(let key, let algorithm, let message):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    message.withUnsafeBytes { c.appendOctets($0) }
                case .verifyMac(let key, let algorithm, let message, let mac):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    message.withUnsafeBytes { c.appendOctets($0) }
                    c.appendOctets(mac)
                case .publicKey(let key):
                    c.append(key)
                case .asymmetricEncrypt(let key, let algorithm, let plaintext):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    plaintext.withUnsafeBytes { c.appendOctets($0) }
                case .asymmetricDecrypt(let key, let algorithm, let ciphertext):
                    c.append(key)
                    c.appendUTF8(algorithm)
                    c.appendOctets(ciphertext)
                case .deriveSharedSecret(let key, let peer):
                    c.append(key)
                    c.appendOctets(peer)
                case .generateDataKeyPair(let key, let pairSpec, let context, let returnPlaintext):
                    c.append(key)
                    c.appendUTF8(pairSpec)
                    c.append(context)
                    c.appendBoolean(returnPlaintext)
                case .createImportWrapping(let keyID, let importID, let wrapping, let notAfter):
                    c.appendOctets(keyID)
                    c.appendOctets(importID)
                    c.appendUTF8(wrapping)
                    c.appendTime(notAfter)
                case .importKeyMaterial(let wrapping, let encrypted, let spec, let validTo):
                    c.append(wrapping)
                    c.appendOctets(encrypted)
                    c.appendUTF8(spec)
                    if let validTo { c.appendTime(validTo, identifier: .context(0)) }
                case .reEncryptWith(
                    let source, let sourceAlgorithm, let ciphertext, let sourceContext, let destination,
                    let destinationAlgorithm, let destinationContext):
                    c.append(source)
                    c.appendUTF8(sourceAlgorithm)
                    c.appendOctets(ciphertext)
                    c.append(sourceContext)
                    c.append(destination)
                    c.appendUTF8(destinationAlgorithm)
                    c.append(destinationContext)
                case .sealAccessKey(let binding, let secret):
                    c.appendOctets(binding)
                    secret.withUnsafeBytes { c.appendOctets($0) }
                case .deriveSigV4DateKey(let key, let day):
                    c.append(key)
                    c.appendUTF8(day)
                }
            }
        }
    }

    /// The command's DER as a secret.
    public var secretDER: SecretBytes {
        var coder = DERWriter(zeroizingGrowth: true)
        serialize(into: &coder)
        var bytes = coder.serializedBytes
        coder = DERWriter()
        return SecretBytes(consuming: &bytes)
    }

    /// Strictly parses a command from its DER held as a secret (an opened request).
    public init(secretDER: SecretBytes) throws(WireError) {
        var bytes = secretDER.withUnsafeBytes { [UInt8]($0) }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        try self.init(node: try DERReader.parse(bytes, "SessionCommand"))
    }

    /// Strictly parses a command.
    public init(node: ASN1Node) throws(WireError) {
        guard node.identifier.tagClass == .contextSpecific, node.identifier.tagNumber <= 20 else {
            throw WireError(.unknownCommand, "SessionCommand alternative \(node.identifier)")
        }
        let tag = node.identifier.tagNumber
        var r = try DERReader(try DERReader.explicitContent(node, "SessionCommand[\(tag)]"), "SessionCommand[\(tag)]")
        switch tag {
        case 0:
            self = .generateRandom(length: try r.int("length", WireLimits.dataKeyBytes))
        case 1:
            self = .createBackingKey(
                keyID: try r.octets("keyID", count: WireLimits.keyIDLength),
                backingKeyID: try r.octets("backingKeyID", count: WireLimits.keyIDLength),
                spec: try r.name("spec"))
        case 2:
            let key = try ExportedKeyToken(node: try r.node("key"))
            let plaintext = try DERReader.secretOctets(
                try r.node("plaintext"), "encrypt.plaintext", WireLimits.plaintextBytes)
            self = .encrypt(key: key, plaintext: plaintext, context: try EncryptionContext(node: try r.node("context")))
        case 3:
            self = .decrypt(
                key: try ExportedKeyToken(node: try r.node("key")),
                ciphertext: try r.octets("ciphertext", WireLimits.blobBytes),
                context: try EncryptionContext(node: try r.node("context")))
        case 4:
            self = .reEncrypt(
                source: try ExportedKeyToken(node: try r.node("source")),
                ciphertext: try r.octets("ciphertext", WireLimits.blobBytes),
                sourceContext: try EncryptionContext(node: try r.node("sourceContext")),
                destination: try ExportedKeyToken(node: try r.node("destination")),
                destinationContext: try EncryptionContext(node: try r.node("destinationContext")))
        case 5:
            self = .generateDataKey(
                key: try ExportedKeyToken(node: try r.node("key")),
                length: try r.int("length", WireLimits.dataKeyBytes),
                context: try EncryptionContext(node: try r.node("context")),
                returnPlaintext: try r.boolean("returnPlaintext"))
        case 6:
            self = .rewrapToken(token: try ExportedKeyToken(node: try r.node("token")))
        case 7:
            self = .sign(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                messageType: try r.enumerated("messageType", as: MessageType.self),
                message: try DERReader.secretOctets(try r.node("message"), "sign.message", WireLimits.messageBytes))
        case 8:
            self = .verify(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                messageType: try r.enumerated("messageType", as: MessageType.self),
                message: try DERReader.secretOctets(try r.node("message"), "verify.message", WireLimits.messageBytes),
                signature: try r.octets("signature", WireLimits.signatureBytes))
        case 9:
            self = .generateMac(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                message: try DERReader.secretOctets(
                    try r.node("message"), "generateMac.message", WireLimits.messageBytes))
        case 10:
            self = .verifyMac(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                message: try DERReader.secretOctets(
                    try r.node("message"), "verifyMac.message", WireLimits.messageBytes),
                mac: try r.octets("mac", WireLimits.macBytes))
        case 11:
            self = .publicKey(key: try ExportedKeyToken(node: try r.node("key")))
        case 12:
            self = .asymmetricEncrypt(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                plaintext: try DERReader.secretOctets(
                    try r.node("plaintext"), "asymmetricEncrypt.plaintext", WireLimits.plaintextBytes))
        case 13:
            self = .asymmetricDecrypt(
                key: try ExportedKeyToken(node: try r.node("key")), algorithm: try r.name("algorithm"),
                ciphertext: try r.octets("ciphertext", WireLimits.asymmetricCiphertextBytes))
        case 16:
            self = .createImportWrapping(
                keyID: try r.octets("keyID", count: WireLimits.keyIDLength),
                importID: try r.octets("importID", count: WireLimits.keyIDLength), wrapping: try r.name("wrapping"),
                notAfter: try r.time("notAfter"))
        case 17:
            self = .importKeyMaterial(
                wrapping: try ExportedKeyToken(node: try r.node("wrapping")),
                encrypted: try r.octets("encrypted", WireLimits.encryptedKeyMaterialBytes), spec: try r.name("spec"),
                validTo: try r.optionalContext(0).map { n throws(WireError) in
                    try WireTime(node: n, "importKeyMaterial.validTo", identifier: .context(0))
                })
        case 18:
            self = .reEncryptWith(
                source: try ExportedKeyToken(node: try r.node("source")),
                sourceAlgorithm: try r.name("sourceAlgorithm"),
                ciphertext: try r.octets("ciphertext", WireLimits.reEncryptCiphertextBytes),
                sourceContext: try EncryptionContext(node: try r.node("sourceContext")),
                destination: try ExportedKeyToken(node: try r.node("destination")),
                destinationAlgorithm: try r.name("destinationAlgorithm"),
                destinationContext: try EncryptionContext(node: try r.node("destinationContext")))
        case 19:
            self = .sealAccessKey(
                binding: try r.octets("binding", count: WireLimits.accessKeyBindingLength),
                secret: try DERReader.secretOctets(
                    try r.node("secret"), "sealAccessKey.secret", WireLimits.accessKeySecretBytes))
        case 20:
            self = .deriveSigV4DateKey(
                key: try ExportedKeyToken(node: try r.node("key")),
                day: try r.utf8("day", WireLimits.sigV4DayLength...WireLimits.sigV4DayLength))
        case 15:
            self = .generateDataKeyPair(
                key: try ExportedKeyToken(node: try r.node("key")), pairSpec: try r.name("pairSpec"),
                context: try EncryptionContext(node: try r.node("context")),
                returnPlaintext: try r.boolean("returnPlaintext"))
        case 14:
            self = .deriveSharedSecret(
                key: try ExportedKeyToken(node: try r.node("key")),
                peer: try r.octets("peer", WireLimits.publicKeyBytes))
        default:
            throw WireError(.unknownCommand, "SessionCommand alternative [\(tag)]")
        }
        try r.end()
    }
}

/// `Failure ::= SEQUENCE { code ENUMERATED, message UTF8String (≤ 1024 bytes) }` (§7).
public struct Failure: DERMessage, Hashable, Error {
    /// The failure codes of §7.
    public enum Code: Int64, Sendable, CaseIterable, Hashable {
        case malformed = 1, unsupported, wrongState, wrongDomain, staleBase, timeWindow, unknownOperator
        case badSignature, quorumNotMet, noRule, unknownHost, authenticationFailed, replay, invalidArgument
        case incorrectKey, invalidCiphertext, keyUsageLimit, wrongKind, overloaded
        case `internal` = 99
    }

    /// The code.
    public let code: Code
    /// A human-readable message with ids and outcomes, never secrets.
    public let message: String

    /// Builds a failure; the message is cut to 1024 bytes at a character boundary.
    public init(_ code: Code, _ message: String) {
        self.code = code
        var text = message
        while text.utf8.count > WireLimits.failureMessageMaximum { text.removeLast() }
        self.message = text
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Failure")
        code = try r.enumerated("code", as: Code.self)
        message = try r.utf8("message", 0...WireLimits.failureMessageMaximum)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendEnumerated(code.rawValue)
            c.appendUTF8(message)
        }
    }
}
