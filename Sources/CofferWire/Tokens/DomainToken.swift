import CofferCrypto
import SwiftASN1

/// `DomainToken` (PROTOCOL §6): a domain state, the command that authorized it, the domain keys sealed
/// to every member by one-pass ECDH, and the exporting member's signature over all of it.
///
/// The signature covers `DER(state) ‖ DER(authorization) ‖ DER(keys) ‖ DER(exporter)` exactly as
/// received: the token's content octets before the signature field (``toBeSigned``).
public struct DomainToken: DERMessage, Hashable {
    /// The new state.
    public let state: DomainState
    /// The command that produced it.
    public let authorization: SignedCommand
    /// The domain keys, sealed to each member.
    public let keys: SealedDomainKeys
    /// The hsmID of the signing member.
    public let exporter: String
    /// `Sign(dHSK_exporter, "coffer domain token v1", toBeSigned)`.
    public let signature: [UInt8]
    /// The bytes the signature covers.
    public let toBeSigned: [UInt8]
    /// The DER, exactly as received or as encoded once.
    public let derBytes: [UInt8]

    /// The bytes an exporter signs for these parts.
    public static func toBeSigned(
        state: DomainState, authorization: SignedCommand, keys: SealedDomainKeys, exporter: String
    ) -> [UInt8] {
        var coder = DERWriter()
        coder.append(state)
        coder.append(authorization)
        coder.append(keys)
        coder.appendUTF8(exporter)
        return coder.serializedBytes
    }

    /// Assembles a token from its parts and the exporter's signature over ``toBeSigned(state:authorization:keys:exporter:)``.
    public init(
        state: DomainState, authorization: SignedCommand, keys: SealedDomainKeys, exporter: String,
        signature: [UInt8]
    ) {
        self.state = state
        self.authorization = authorization
        self.keys = keys
        self.exporter = exporter
        self.signature = signature
        let tbs = Self.toBeSigned(state: state, authorization: authorization, keys: keys, exporter: exporter)
        toBeSigned = tbs
        var coder = DERWriter()
        coder.appendSequence { c in
            c.appendDER(tbs)
            c.appendOctets(signature)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "DomainToken")
        let stateNode = try r.node("state")
        let authorizationNode = try r.node("authorization")
        let keysNode = try r.node("keys")
        state = try DomainState(node: stateNode)
        authorization = try SignedCommand(node: authorizationNode)
        keys = try SealedDomainKeys(node: keysNode)
        let exporterNode = try r.node("exporter")
        exporter = try DERReader.hsmID(exporterNode, "DomainToken.exporter")
        signature = try r.signature()
        try r.end()
        toBeSigned =
            Array(stateNode.encodedBytes) + Array(authorizationNode.encodedBytes) + Array(keysNode.encodedBytes)
            + Array(exporterNode.encodedBytes)
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }

    /// `H(DER(token))`.
    public var digest: [UInt8] { Hash.h(derBytes) }
}

/// `SealedDomainKeys ::= SEQUENCE { sealed, recipients SEQUENCE OF Recipient }` (§6), recipients
/// sorted by hsmID. `sealed = Seal(DKEK, DER(SEQUENCE OF DomainKey), digest(state))`.
public struct SealedDomainKeys: DERMessage, Hashable {
    /// The domain keys under the DKEK.
    public let sealed: [UInt8]
    /// One per member, sorted by hsmID.
    public let recipients: [Recipient]

    /// Builds the sealed keys; recipients are sorted here.
    public init(sealed: [UInt8], recipients: [Recipient]) {
        self.sealed = sealed
        self.recipients = recipients.sortedByUTF8(\.hsmID)
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "SealedDomainKeys")
        sealed = try r.octets("sealed")
        recipients = try r.sequence("recipients", Recipient.init(node:))
        try r.end()
        try WireValidation.checkSortedUnique(recipients.map(\.hsmID), "SealedDomainKeys.recipients")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendOctets(sealed)
            c.appendSequence(of: recipients) { $0.append($1) }
        }
    }
}

/// `Recipient ::= SEQUENCE { hsmID, ephemeralKey, wrappedDKEK }`: the DKEK for one member, under
/// `KEK = KDF(ECDH(de, QHAK), "coffer dkek wrap v1", exporterID ‖ Qe, hsmID ‖ QHAK, digest(state))`.
public struct Recipient: DERMessage, Hashable {
    /// The member.
    public let hsmID: String
    /// The exporter's ephemeral key `Qe` for this member.
    public let ephemeralKey: P384PublicKey
    /// `Seal(KEK, DKEK, digest(state))`, 60 bytes.
    public let wrappedDKEK: [UInt8]

    /// Builds a recipient entry.
    public init(hsmID: String, ephemeralKey: P384PublicKey, wrappedDKEK: [UInt8]) {
        self.hsmID = hsmID
        self.ephemeralKey = ephemeralKey
        self.wrappedDKEK = wrappedDKEK
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Recipient")
        hsmID = try r.hsmID("hsmID")
        ephemeralKey = try r.publicKey("ephemeralKey")
        wrappedDKEK = try r.octets("wrappedDKEK", count: WireLimits.sealedKeyLength)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(hsmID)
            c.appendOctets(ephemeralKey.spki)
            c.appendOctets(wrappedDKEK)
        }
    }
}

/// `DomainKey ::= SEQUENCE { keyID OCTET STRING (8), material OCTET STRING (32) }`: secret.
public struct DomainKey: Sendable, Equatable {
    /// 8 bytes, as in `DomainKeyInfo`.
    public let keyID: [UInt8]
    /// The 256-bit key.
    public let material: SecretBytes

    /// Builds a domain key.
    public init(keyID: [UInt8], material: SecretBytes) {
        self.keyID = keyID
        self.material = material
    }
}

/// `SEQUENCE OF DomainKey`, the plaintext inside `SealedDomainKeys.sealed`. Encoded and decoded only
/// through ``SecretBytes`` so the key material never outlives a call in an ordinary array.
public enum DomainKeyList {
    /// The DER of `keys`, as a secret.
    public static func encode(_ keys: [DomainKey]) -> SecretBytes {
        var coder = DERWriter(zeroizingGrowth: true)
        coder.appendSequence(of: keys) { c, key in
            c.appendSequence { c in
                c.appendOctets(key.keyID)
                key.material.withUnsafeBytes { c.appendOctets($0) }
            }
        }
        var bytes = coder.serializedBytes
        coder = DERWriter()
        return SecretBytes(consuming: &bytes)
    }

    /// Strictly parses the DER of a key list.
    public static func decode(_ secret: SecretBytes) throws(WireError) -> [DomainKey] {
        var bytes = secret.withUnsafeBytes { [UInt8]($0) }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        let node = try DERReader.parse(bytes, "SEQUENCE OF DomainKey")
        return try DERReader.sequence(node, "SEQUENCE OF DomainKey") { n throws(WireError) in
            var r = try DERReader(n, "DomainKey")
            let keyID = try r.octets("keyID", count: WireLimits.domainKeyIDLength)
            let material = try DERReader.secretOctets(
                try r.node("material"), "DomainKey.material", count(WireLimits.domainKeyMaterialLength))
            try r.end()
            return DomainKey(keyID: keyID, material: material)
        }
    }
}

extension DERReader {
    /// An OCTET STRING read straight into a secret.
    static func secretOctets(
        _ node: ASN1Node, _ what: String, _ sizes: ClosedRange<Int>, _ identifier: ASN1Identifier = .octetString
    ) throws(WireError) -> SecretBytes {
        let content = try primitive(node, what, identifier)
        try checkSize(content.count, sizes, what)
        return SecretBytes(copying: content)
    }
}
