import CofferCrypto
import CofferTestSupport
import CofferWire
import Crypto
import Foundation

/// `vectors/coffer/protocol.json`, loaded once, with its named keys.
struct ProtocolVectors {
    let json: [String: Any]

    static func load() throws -> ProtocolVectors {
        ProtocolVectors(json: try VectorFile.load("protocol", from: .module))
    }

    func section(_ name: String) throws -> [String: Any] { try json.object(name) }

    private func keyEntry(_ name: String) throws -> [String: Any] {
        try json.object("keys").object(name)
    }

    /// The named key's public half as a validated SPKI.
    func publicKey(_ name: String) throws -> P384PublicKey {
        let entry = try keyEntry(name)
        let key = try P384PublicKey(spki: try entry.hex("spki"))
        guard key.fingerprint == (try entry.string("hsmIDIfSigningKey")) else { throw VectorError("\(name) hsmID") }
        return key
    }

    func signingKey(_ name: String) throws -> P384.Signing.PrivateKey {
        try P384.Signing.PrivateKey(rawRepresentation: try keyEntry(name).hex("private"))
    }

    func agreementKey(_ name: String) throws -> P384.KeyAgreement.PrivateKey {
        try ECDH.privateKey(scalar: try keyEntry(name).hex("private"))
    }
}

extension Dictionary where Key == String, Value == Any {
    /// A GeneralizedTime field.
    func time(_ key: String) throws -> WireTime {
        guard let time = WireTime(generalizedTime: Array(try string(key).utf8)) else {
            throw VectorError("\(key) is not a GeneralizedTime")
        }
        return time
    }

    /// A context given as `[[key, value], …]`.
    func context(_ key: String) throws -> [EncryptionContext.Pair] {
        guard let pairs = self[key] as? [[String]] else { throw VectorError("\(key) is not a list of pairs") }
        return pairs.map { EncryptionContext.Pair(key: $0[0], value: $0[1]) }
    }
}
