import CofferJSON
import Testing

/// Strict padded base64, against RFC 4648 §10's vectors.
@Suite struct Base64Tests {
    static let vectors = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test func rfc4648Vectors() {
        for (plain, encoded) in Self.vectors {
            #expect(String(decoding: Base64.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
            #expect(Base64.decode(encoded.utf8) == Array(plain.utf8))
        }
        let all = (0...255).map(UInt8.init)
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    @Test func onlyOneEncodingPerValueIsAccepted() {
        for bad in [
            "Zg", "Zg=", "Zh==", "Zm9=", "Z===", "====", "Zm9v\n", "Zm 9v", "Zm9v====", "Zg==Zg==", "Zm-v", "Zm_v",
        ] {
            #expect(Base64.decode(bad.utf8) == nil, "\(bad)")
        }
    }
}
