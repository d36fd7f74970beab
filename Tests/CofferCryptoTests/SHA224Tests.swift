import CofferCrypto
import Crypto
import Testing

/// SHA-224 against FIPS 180-4's examples (NIST's "Example Algorithms"), HMAC-SHA-224 (swift-crypto's HMAC
/// over Coffer's SHA224) against RFC 4231's test cases; both were recomputed with Python's hashlib and hmac.
@Suite struct SHA224Tests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { Hex.encode(bytes) }

    @Test func fipsExamples() {
        let cases: [([UInt8], String)] = [
            ([], "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"),
            (Array("abc".utf8), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"),
            (
                Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
                "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"
            ),
            ([UInt8](repeating: 0x61, count: 1_000_000), "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67"),
        ]
        for (message, expected) in cases {
            #expect(Self.hex(SHA224.hash(data: message)) == expected)
        }
    }

    /// Every split of a message across `update` calls, around the block and padding boundaries, gives the
    /// one-shot digest.
    @Test func incrementalUpdatesEqualOneShot() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let whole = Array(SHA224.hash(data: message))
            for cut in Set([0, 1, length / 3, length / 2, max(length - 1, 0), length]) where cut <= length {
                var hasher = SHA224()
                hasher.update(data: message[..<cut])
                hasher.update(data: message[cut...])
                #expect(Array(hasher.finalize()) == whole, "length \(length) cut \(cut)")
            }
        }
    }

    @Test func hmacRFC4231() {
        let cases: [([UInt8], [UInt8], String)] = [
            (
                [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"
            ),
            (
                [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
                "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea"
            ),
            (
                Array(1...25), [UInt8](repeating: 0xcd, count: 50),
                "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e"
            ),
        ]
        for (key, message, expected) in cases {
            let mac = HMAC<SHA224>.authenticationCode(for: message, using: SymmetricKey(data: key))
            #expect(Self.hex(mac) == expected)
            #expect(
                HMAC<SHA224>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: key)))
        }
    }
}
