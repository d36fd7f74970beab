import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto
import Foundation
import Testing

/// Sealed secret access keys (docs/protocol.md, "Access keys"): the day key an HSM derives is SigV4's
/// `kDate`, only for days around its clock; the token's subject is the binding and random bytes (nothing
/// of the secret); no other command opens the token, and deriveSigV4DateKey opens no other token.
@Suite struct AccessKeyTests {
    static let binding = [UInt8](repeating: 5, count: 16)

    static func seal(_ secret: String, _ world: inout SessionWorld, _ session: Session) throws -> ExportedKeyToken {
        guard
            case .token(let token) = try world.run(
                .sealAccessKey(binding: binding, secret: SecretBytes(copying: Array(secret.utf8))), session: session)
        else { throw FixtureError() }
        return token
    }

    static func day(_ world: SessionWorld, offset: Int64 = 0) -> String {
        String(
            decoding: WireTime(secondsSinceEpoch: world.now.secondsSinceEpoch + offset).generalizedTimeBytes.prefix(8),
            as: UTF8.self)
    }

    static func failure(_ result: SessionResult) -> Failure.Code? {
        if case .failure(let failure) = result { return failure.code }
        return nil
    }

    @Test(arguments: ["x", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", String(repeating: "s", count: 128)])
    func theDayKeyIsSigV4sKDate(secret: String) throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.seal(secret, &world, session)
        #expect(token.header.spec == "SIGV4_SECRET" && token.header.kind == .backingKey)
        #expect(Array(token.header.subject.prefix(16)) == Self.binding)
        for offset in [-86_400, 0, 86_400] as [Int64] {
            let day = Self.day(world, offset: offset)
            guard
                case .sharedSecret(let derived) = try world.run(
                    .deriveSigV4DateKey(key: token, day: day), session: session, toB: true)
            else { throw FixtureError() }
            let expected = HMAC<SHA256>.authenticationCode(
                for: Array(day.utf8), using: SymmetricKey(data: Array("AWS4\(secret)".utf8)))
            #expect(derived.withUnsafeBytes { [UInt8]($0) } == [UInt8](expected))
        }
    }

    @Test func daysFarFromTheClockAndMalformedDaysAreRefused() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.seal("secret", &world, session)
        for day in [Self.day(world, offset: -2 * 86_400), Self.day(world, offset: 2 * 86_400), "20261x03", "2026-1-3"] {
            #expect(
                Self.failure(try world.run(.deriveSigV4DateKey(key: token, day: day), session: session))
                    == .invalidArgument, "\(day)")
        }
    }

    @Test func theSubjectHoldsNothingOfTheSecret() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let first = try Self.seal("the same secret", &world, session)
        let second = try Self.seal("the same secret", &world, session)
        // Random after the binding: two seals of one secret differ, so the header fingerprints nothing.
        #expect(first.header.subject.count == 32)
        #expect(first.header.subject.suffix(16) != second.header.subject.suffix(16))
    }

    @Test func aSealedSecretOpensForNothingElseAndNothingElseDerives() throws {
        var world = try SessionWorld()
        let session = try world.session()
        let token = try Self.seal("secret", &world, session)
        let message = SecretBytes(copying: Array(Self.day(world).utf8))
        for command: SessionCommand in [
            .generateMac(key: token, algorithm: "HMAC_SHA_256", message: message),
            .verifyMac(key: token, algorithm: "HMAC_SHA_256", message: message, mac: [UInt8](repeating: 0, count: 32)),
            .encrypt(key: token, plaintext: message, context: .empty),
            .publicKey(key: token),
            .sign(key: token, algorithm: "HMAC_SHA_256", messageType: .raw, message: message),
        ] {
            #expect(Self.failure(try world.run(command, session: session)) == .wrongKind, "command [\(command.tag)]")
        }
        guard
            case .token(let hmac) = try world.run(
                .createBackingKey(
                    keyID: Self.binding, backingKeyID: [UInt8](repeating: 2, count: 16), spec: "HMAC_256"),
                session: session)
        else { throw FixtureError() }
        #expect(
            Self.failure(try world.run(.deriveSigV4DateKey(key: hmac, day: Self.day(world)), session: session))
                == .wrongKind)
        // Nor can a host make one with material of its choosing through the other paths.
        #expect(
            Self.failure(
                try world.run(
                    .createBackingKey(
                        keyID: Self.binding, backingKeyID: [UInt8](repeating: 3, count: 16), spec: "SIGV4_SECRET"),
                    session: session)) == .unsupported)
    }
}
