import CofferCrypto
import SwiftASN1

/// `ExportedKeyToken` (PROTOCOL §7): key material sealed under a domain key, with a header that is
/// the AAD: `sealed = Seal(DK[domainKeyID], material, DER(header))`.
public struct ExportedKeyToken: DERMessage, Hashable {
    /// The authenticated header.
    public let header: Header
    /// `IV ‖ ct ‖ tag`, 29 … 8220 bytes.
    public let sealed: [UInt8]
    /// The DER, exactly as received or as encoded once.
    public let derBytes: [UInt8]

    /// What a token holds.
    public enum Kind: Int64, Sendable, CaseIterable, Hashable {
        /// A session key `SK`; subject = `H(SPKI of the host's signing key)`.
        case session = 0
        /// A KMS backing key; subject = `keyID ‖ backingKeyID`.
        case backingKey = 1
        /// An import wrapping key; subject = `keyID ‖ importID`.
        case importWrapping = 2
    }

    /// The token header.
    public struct Header: DERMessage, Hashable {
        /// The only version.
        public static let version: Int64 = 1
        /// 16 bytes.
        public let domainID: [UInt8]
        /// The 8-byte id of the domain key that sealed the material.
        public let domainKeyID: [UInt8]
        /// What the material is.
        public let kind: Kind
        /// 48 bytes for a session, 32 for the others.
        public let subject: [UInt8]
        /// `AES_256`, `RSA_2048`, …
        public let spec: String
        /// Not usable before `notBefore − clockSkew`.
        public let notBefore: WireTime
        /// Required for session and importWrapping tokens.
        public let notAfter: WireTime?
        /// The DER, exactly as received or as encoded once: the AAD of `sealed`.
        public let derBytes: [UInt8]

        /// Builds a header.
        public init(
            domainID: [UInt8], domainKeyID: [UInt8], kind: Kind, subject: [UInt8], spec: String,
            notBefore: WireTime, notAfter: WireTime?
        ) {
            self.domainID = domainID
            self.domainKeyID = domainKeyID
            self.kind = kind
            self.subject = subject
            self.spec = spec
            self.notBefore = notBefore
            self.notAfter = notAfter
            var coder = DERWriter()
            coder.appendSequence { c in
                c.appendInteger(Self.version)
                c.appendOctets(domainID)
                c.appendOctets(domainKeyID)
                c.appendEnumerated(kind.rawValue)
                c.appendOctets(subject)
                c.appendUTF8(spec)
                c.appendTime(notBefore)
                if let notAfter { c.appendTime(notAfter, identifier: .context(0)) }
            }
            derBytes = coder.serializedBytes
        }

        public init(node: ASN1Node) throws(WireError) {
            var r = try DERReader(node, "ExportedKeyToken.header")
            let version = try r.integer("version", Int64.min...Int64.max)
            guard version == Self.version else {
                throw WireError(.unknownVersion, "ExportedKeyToken.header.version = \(version)")
            }
            domainID = try r.octets("domainID", count: WireLimits.domainIDLength)
            domainKeyID = try r.octets("domainKeyID", count: WireLimits.domainKeyIDLength)
            kind = try r.enumerated("kind", as: Kind.self)
            subject = try r.octets("subject")
            spec = try r.name("spec")
            notBefore = try r.time("notBefore")
            notAfter = try r.optionalContext(0).map { n throws(WireError) in
                try WireTime(node: n, "ExportedKeyToken.header.notAfter", identifier: .context(0))
            }
            try r.end()
            let subjectLength = kind == .session ? WireLimits.digestLength : 2 * WireLimits.keyIDLength
            guard subject.count == subjectLength else {
                throw WireError(
                    .badSize, "ExportedKeyToken.header.subject: \(subject.count) bytes, need \(subjectLength)")
            }
            if kind != .backingKey && notAfter == nil {
                throw WireError(.missingField, "notAfter is required for session and importWrapping tokens")
            }
            derBytes = Array(node.encodedBytes)
        }

        public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }
    }

    /// Assembles a token.
    public init(header: Header, sealed: [UInt8]) {
        self.header = header
        self.sealed = sealed
        var coder = DERWriter()
        coder.appendSequence { c in
            c.append(header)
            c.appendOctets(sealed)
        }
        derBytes = coder.serializedBytes
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "ExportedKeyToken")
        header = try Header(node: try r.node("header"))
        sealed = try r.octets("sealed", WireLimits.ektSealedBytes)
        try r.end()
        derBytes = Array(node.encodedBytes)
    }

    public func serialize(into coder: inout DERWriter) { coder.appendDER(derBytes) }

    /// `H(DER(ekt))`: the anti-replay key and part of every request and response AAD (§7).
    public var digest: [UInt8] { Hash.h(derBytes) }
}
