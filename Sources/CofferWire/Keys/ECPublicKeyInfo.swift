import SwiftASN1

/// The algorithm identifier of an elliptic-curve key (RFC 5480): id-ecPublicKey with a named curve. A
/// peer's SubjectPublicKeyInfo must name the key's own curve: swift-crypto's SPKI parser ignores the
/// algorithm identifier and reads the point as one of its own curve, so a P-256 point labelled secp256k1
/// would otherwise pass. Host (DeriveSharedSecret's check) and HSM (the command's) decide alike.
package enum ECPublicKeyInfo {
    /// id-ecPublicKey, 1.2.840.10045.2.1.
    package static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    /// prime256v1 (P-256).
    package static let p256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    /// secp384r1 (P-384).
    package static let p384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    /// secp521r1 (P-521).
    package static let p521: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]

    /// Whether `spki` is `SEQUENCE { AlgorithmIdentifier, BIT STRING }` in DER whose algorithm is exactly
    /// id-ecPublicKey with `curve` (the point itself is for the curve's parser to check).
    package static func names(_ spki: [UInt8], curve: ASN1ObjectIdentifier) -> Bool {
        guard let node = try? DER.parse(spki), node.identifier == .sequence,
            case .constructed(let fields) = node.content
        else { return false }
        var children = fields.makeIterator()
        guard let algorithm = children.next(), let key = children.next(), key.identifier == .bitString,
            children.next() == nil
        else { return false }
        return namesCurve(algorithm, curve)
    }

    /// Whether `algorithm` is an `AlgorithmIdentifier` of exactly id-ecPublicKey and `curve`.
    package static func namesCurve(_ algorithm: ASN1Node, _ curve: ASN1ObjectIdentifier) -> Bool {
        guard algorithm.identifier == .sequence, case .constructed(let identifier) = algorithm.content else {
            return false
        }
        let parts = Array(identifier)
        guard parts.count == 2, let kind = try? ASN1ObjectIdentifier(derEncoded: parts[0]),
            let parameters = try? ASN1ObjectIdentifier(derEncoded: parts[1])
        else { return false }
        return kind == ecPublicKey && parameters == curve
    }
}
