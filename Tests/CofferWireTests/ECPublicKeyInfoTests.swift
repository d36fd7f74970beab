import CofferWire
import Crypto
import SwiftASN1
import Testing

/// `ECPublicKeyInfo.names` byte by byte: swift-crypto's SPKIs of each curve name their own curve only;
/// every truncation, an appended byte, and every single-bit change of the algorithm identifier are
/// refused; a point relabelled with another curve's OID is refused.
@Suite struct ECPublicKeyInfoTests {
    static let p256 = Array(P256.KeyAgreement.PrivateKey().publicKey.derRepresentation)
    static let p384 = Array(P384.KeyAgreement.PrivateKey().publicKey.derRepresentation)
    static let p521 = Array(P521.KeyAgreement.PrivateKey().publicKey.derRepresentation)
    static let curves = [ECPublicKeyInfo.p256, ECPublicKeyInfo.p384, ECPublicKeyInfo.p521]
    static let spkis: [([UInt8], ASN1ObjectIdentifier)] = [
        (p256, ECPublicKeyInfo.p256), (p384, ECPublicKeyInfo.p384), (p521, ECPublicKeyInfo.p521),
    ]

    @Test func eachCurveNamesItselfOnly() {
        for (spki, curve) in Self.spkis {
            for other in Self.curves {
                #expect(ECPublicKeyInfo.names(spki, curve: other) == (other == curve))
            }
        }
    }

    @Test func truncationsAppendsAndBitFlipsOfTheIdentifierAreRefused() {
        for (spki, curve) in Self.spkis {
            for length in 0..<spki.count {
                #expect(!ECPublicKeyInfo.names(Array(spki.prefix(length)), curve: curve))
            }
            #expect(!ECPublicKeyInfo.names(spki + [0], curve: curve))
            // The outer header and the AlgorithmIdentifier: every bit of them matters.
            let identifierStart = spki[1] == 0x81 ? 3 : 2
            let identifierEnd = identifierStart + 2 + Int(spki[identifierStart + 1])
            for index in 0..<min(identifierEnd, spki.count) {
                for bit in 0..<8 {
                    var changed = spki
                    changed[index] ^= UInt8(1 << bit)
                    #expect(!ECPublicKeyInfo.names(changed, curve: curve), "byte \(index) bit \(bit)")
                }
            }
        }
    }
}
