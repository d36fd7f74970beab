import CofferCrypto
import SwiftASN1

/// `SessionResult` (PROTOCOL §7): the answer to a ``SessionCommand``, a CHOICE with EXPLICIT
/// alternatives. Plaintexts and random bytes are secrets; encode with ``secretDER``.
public enum SessionResult: Sendable, Equatable {
    /// `[0]`: generateRandom's bytes.
    case random(SecretBytes)
    /// `[1]`: createBackingKey's and rewrapToken's token.
    case token(ExportedKeyToken)
    /// `[2]`: encrypt's and reEncrypt's blob.
    case ciphertext([UInt8])
    /// `[3]`: decrypt's plaintext and the blob's key ID.
    case plaintext(keyID: [UInt8], plaintext: SecretBytes)
    /// `[5]`: generateDataKey's blob, and the key itself when asked for.
    case dataKey(plaintext: SecretBytes?, ciphertext: [UInt8])
    /// `[6]`: sign's signature.
    case signature([UInt8])
    /// `[7]`: generateMac's MAC.
    case mac([UInt8])
    /// `[8]`: publicKey's SubjectPublicKeyInfo.
    case publicKey([UInt8])
    /// `[9]`: verify's and verifyMac's answer.
    case verified(Bool)
    /// `[10]`: deriveSharedSecret's shared secret (ECDH's x-coordinate, 32, 48 or 66 bytes).
    case sharedSecret(SecretBytes)
    /// `[11]`: generateDataKeyPair's pair: the private key (PKCS#8) when asked for, its §8 blob, and the
    /// public key (a SubjectPublicKeyInfo).
    case dataKeyPair(privateKey: SecretBytes?, privateKeyCiphertext: [UInt8], publicKey: [UInt8])
    /// `[12]`: createImportWrapping's token (the ImportToken) and the wrapping key's SubjectPublicKeyInfo.
    case importParameters(token: ExportedKeyToken, publicKey: [UInt8])
    /// `[13]`: importKeyMaterial's backing-key token and the material's id (32 bytes).
    case importedKey(token: ExportedKeyToken, keyMaterialID: [UInt8])
    /// `[31]`: a failure after the request opened.
    case failure(Failure)

    /// Writes the result's DER (which may contain a secret: prefer ``secretDER``).
    public func serialize(into coder: inout DERWriter) {
        switch self {
        case .random(let bytes):
            coder.appendExplicit(0) { c in bytes.withUnsafeBytes { c.appendOctets($0) } }
        case .token(let token):
            coder.appendExplicit(1) { c in c.append(token) }
        case .ciphertext(let blob):
            coder.appendExplicit(2) { c in c.appendOctets(blob) }
        case .plaintext(let keyID, let plaintext):
            coder.appendExplicit(3) { c in
                c.appendSequence { c in
                    c.appendOctets(keyID)
                    plaintext.withUnsafeBytes { c.appendOctets($0) }
                }
            }
        case .dataKey(let plaintext, let ciphertext):
            coder.appendExplicit(5) { c in
                c.appendSequence { c in
                    if let plaintext { plaintext.withUnsafeBytes { c.appendOctets($0, identifier: .context(0)) } }
                    c.appendOctets(ciphertext)
                }
            }
        case .signature(let bytes):
            coder.appendExplicit(6) { c in c.appendOctets(bytes) }
        case .mac(let bytes):
            coder.appendExplicit(7) { c in c.appendOctets(bytes) }
        case .publicKey(let spki):
            coder.appendExplicit(8) { c in c.appendOctets(spki) }
        case .verified(let valid):
            coder.appendExplicit(9) { c in c.appendBoolean(valid) }
        case .sharedSecret(let secret):
            coder.appendExplicit(10) { c in secret.withUnsafeBytes { c.appendOctets($0) } }
        case .dataKeyPair(let privateKey, let privateKeyCiphertext, let publicKey):
            coder.appendExplicit(11) { c in
                c.appendSequence { c in
                    if let privateKey { privateKey.withUnsafeBytes { c.appendOctets($0, identifier: .context(0)) } }
                    c.appendOctets(privateKeyCiphertext)
                    c.appendOctets(publicKey)
                }
            }
        case .importParameters(let token, let publicKey):
            coder.appendExplicit(12) { c in
                c.appendSequence { c in
                    c.append(token)
                    c.appendOctets(publicKey)
                }
            }
        case .importedKey(let token, let keyMaterialID):
            coder.appendExplicit(13) { c in
                c.appendSequence { c in
                    c.append(token)
                    c.appendOctets(keyMaterialID)
                }
            }
        case .failure(let failure):
            coder.appendExplicit(31) { c in c.append(failure) }
        }
    }

    /// The result's DER as a secret.
    public var secretDER: SecretBytes {
        var coder = DERWriter(zeroizingGrowth: true)
        serialize(into: &coder)
        var bytes = coder.serializedBytes
        coder = DERWriter()
        return SecretBytes(consuming: &bytes)
    }

    /// Strictly parses a result from its DER held as a secret (an opened response).
    public init(secretDER: SecretBytes) throws(WireError) {
        var bytes = secretDER.withUnsafeBytes { [UInt8]($0) }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        try self.init(node: try DERReader.parse(bytes, "SessionResult"))
    }

    /// Strictly parses a result.
    public init(node: ASN1Node) throws(WireError) {
        let tag = node.identifier.tagNumber
        guard node.identifier.tagClass == .contextSpecific,
            [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 31].contains(tag)
        else {
            throw WireError(.unknownResult, "SessionResult alternative \(node.identifier)")
        }
        let what = "SessionResult[\(tag)]"
        let inner = try DERReader.explicitContent(node, what)
        switch tag {
        case 0:
            self = .random(try DERReader.secretOctets(inner, what, WireLimits.dataKeyBytes))
        case 1:
            self = .token(try ExportedKeyToken(node: inner))
        case 2:
            self = .ciphertext(try DERReader.octets(inner, what, WireLimits.blobBytes))
        case 3:
            var r = try DERReader(inner, what)
            let keyID = try r.octets("keyID", count: WireLimits.keyIDLength)
            let plaintext = try DERReader.secretOctets(try r.node("plaintext"), what, WireLimits.plaintextBytes)
            try r.end()
            self = .plaintext(keyID: keyID, plaintext: plaintext)
        case 5:
            var r = try DERReader(inner, what)
            let plaintext = try r.optionalContext(0).map { n throws(WireError) in
                try DERReader.secretOctets(n, "\(what).plaintext", WireLimits.dataKeyBytes, .context(0))
            }
            let ciphertext = try r.octets("ciphertext", WireLimits.blobBytes)
            try r.end()
            self = .dataKey(plaintext: plaintext, ciphertext: ciphertext)
        case 6:
            self = .signature(try DERReader.octets(inner, what, WireLimits.signatureBytes))
        case 7:
            self = .mac(try DERReader.octets(inner, what, WireLimits.macBytes))
        case 8:
            self = .publicKey(try DERReader.octets(inner, what, WireLimits.publicKeyBytes))
        case 9:
            self = .verified(try DERReader.boolean(inner, what))
        case 10:
            self = .sharedSecret(try DERReader.secretOctets(inner, what, WireLimits.sharedSecretBytes))
        case 11:
            var r = try DERReader(inner, what)
            let privateKey = try r.optionalContext(0).map { n throws(WireError) in
                try DERReader.secretOctets(n, "\(what).privateKey", WireLimits.plaintextBytes, .context(0))
            }
            let privateKeyCiphertext = try r.octets("privateKeyCiphertext", WireLimits.blobBytes)
            let publicKey = try r.octets("publicKey", WireLimits.publicKeyBytes)
            try r.end()
            self = .dataKeyPair(
                privateKey: privateKey, privateKeyCiphertext: privateKeyCiphertext, publicKey: publicKey)
        case 12:
            var r = try DERReader(inner, what)
            let token = try ExportedKeyToken(node: try r.node("token"))
            let publicKey = try r.octets("publicKey", WireLimits.publicKeyBytes)
            try r.end()
            self = .importParameters(token: token, publicKey: publicKey)
        case 13:
            var r = try DERReader(inner, what)
            let token = try ExportedKeyToken(node: try r.node("token"))
            let id = try r.octets("keyMaterialID", count: WireLimits.keyMaterialIDLength)
            try r.end()
            self = .importedKey(token: token, keyMaterialID: id)
        default:
            self = .failure(try Failure(node: inner))
        }
    }
}
