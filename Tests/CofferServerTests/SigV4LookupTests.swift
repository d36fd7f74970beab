import CofferCrypto
import CofferServer
import Crypto
import Foundation
import Testing

/// The verifier with a lookup (the store's principals): it asks for the credential scope's day, checks
/// the signature with the day key alone, and answers a failed lookup with KMSInternalException (500),
/// never as a refusal of the caller.
@Suite struct SigV4LookupTests {
    actor Asked {
        var days: [String] = []
        func note(_ day: String) { days.append(day) }
    }

    @Test func theDayKeyVerifiesWhatTheSecretSigned() async throws {
        let asked = Asked()
        let secret = SecretBytes(copying: Array(SigV4VerifierTests.secret.utf8))
        let verifier = SigV4Verifier(service: "kms") { (id: String, day: String) async throws(SigV4Error) in
            await asked.note(day)
            guard id == "AKIDCOFFER" else { return nil }
            return .init(
                key: .dateKey(SigV4.dateKey(secret: secret, day: day)), account: "111122223333",
                principal: "arn:aws:iam::111122223333:user/alice")
        }
        let request = SigV4VerifierTests.signed()
        let identity = try await verifier.authenticate(request, now: SigV4VerifierTests.now)
        #expect(identity.principal == "arn:aws:iam::111122223333:user/alice")
        #expect(await asked.days == [String(SigV4VerifierTests.amzDate(SigV4VerifierTests.now).prefix(8))])

        await #expect(throws: SigV4Error.self) {
            _ = try await verifier.authenticate(
                SigV4VerifierTests.signed(secret: "another-secret"), now: SigV4VerifierTests.now)
        }
        do {
            _ = try await verifier.authenticate(
                SigV4VerifierTests.signed(accessKey: "AKIDNOBODY"), now: SigV4VerifierTests.now)
            Issue.record("an unknown access key was accepted")
        } catch {
            #expect(error.awsErrorName == "UnrecognizedClientException")
        }
        // A lookup that a fixed-credentials `verify` cannot make knows no caller.
        #expect(throws: SigV4Error.self) { _ = try verifier.verify(request, now: SigV4VerifierTests.now) }
    }

    actor Current {
        var secret: String
        init(_ secret: String) { self.secret = secret }
        func set(_ secret: String) { self.secret = secret }
    }

    /// The verifier keeps each day's signing key (SigningKeyCache); a caller whose secret changed must not
    /// be verified with the key of the old one, whether the lookup gives the secret or the day key.
    @Test(arguments: [false, true]) func aChangedSecretIsNeverVerifiedWithTheOldOnesKey(dayKey: Bool) async throws {
        let current = Current("first-secret")
        let verifier = SigV4Verifier(service: "kms") { (_: String, day: String) async throws(SigV4Error) in
            let secret = SecretBytes(copying: Array(await current.secret.utf8))
            return .init(
                key: dayKey ? .dateKey(SigV4.dateKey(secret: secret, day: day)) : .secret(secret),
                account: "111122223333")
        }
        let now = SigV4VerifierTests.now
        let first = SigV4VerifierTests.signed(secret: "first-secret")
        _ = try await verifier.authenticate(first, now: now)
        _ = try await verifier.authenticate(first, now: now)  // the kept key
        await current.set("second-secret")
        do {
            _ = try await verifier.authenticate(first, now: now)
            Issue.record("a request signed with the old secret was accepted")
        } catch {
            #expect(error.awsErrorName == "InvalidSignatureException")
        }
        _ = try await verifier.authenticate(SigV4VerifierTests.signed(secret: "second-secret"), now: now)
    }

    @Test func aFailedLookupIsADependencyTimeout() async {
        let verifier = SigV4Verifier(service: "kms") { (_: String, _: String) async throws(SigV4Error) in
            throw SigV4Error(.unavailable, "the store is down")
        }
        do {
            _ = try await verifier.authenticate(SigV4VerifierTests.signed(), now: SigV4VerifierTests.now)
            Issue.record("accepted")
        } catch {
            // The service's dependency (the store, an HSM) failed, not the caller: a retryable 500.
            #expect(error.awsErrorName == "DependencyTimeoutException")
            #expect(error.httpStatus == 500)
        }
    }

    @Test func aDayKeyIsTheFirstStepOfTheSigningKey() {
        let secret = SecretBytes(copying: Array("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".utf8))
        let viaSecret = SigV4.signingKey(secret: secret, day: "20150830", region: "us-east-1", service: "iam")
        let viaDay = SigV4.signingKey(
            dateKey: SigV4.dateKey(secret: secret, day: "20150830"), region: "us-east-1", service: "iam")
        // AWS's published example signing key for this secret, day, region and service.
        let expected = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        #expect(viaSecret.withUnsafeBytes { Hex.encode(Array($0)) } == expected)
        #expect(viaDay.withUnsafeBytes { Hex.encode(Array($0)) } == expected)
    }
}
