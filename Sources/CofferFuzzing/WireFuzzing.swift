import CofferCrypto
import CofferDomain
import CofferJSON
import CofferKMS
import CofferPolicy
import CofferServer
import CofferWire
import NIOCore

/// The fuzz entry for the frame decoder and every message parser (docs/fuzzing.md).
///
/// The input is read two ways: as a byte stream through ``FrameParser`` (each frame body decoded as an
/// ``Envelope``), and as one DER value handed to every other decoder. Nothing may crash, and whatever
/// decodes must re-encode to exactly the bytes it came from (a strict DER decoder admits one encoding
/// per value); a violation traps so libFuzzer records the input.
public enum WireFuzzing {
    /// Runs one input. Used by the libFuzzer target (`Fuzz/`) and by the FuzzReplay test.
    public static func run(_ data: [UInt8]) {
        var buffer = ByteBuffer(bytes: data)
        frames: while true {
            let frame: InboundFrame?
            do {
                frame = try FrameParser.nextFrame(from: &buffer)
            } catch {
                break frames  // an oversized length closes the connection
            }
            switch frame {
            case nil: break frames
            case .empty: continue
            case .body(let body):
                let bytes = Array(body.readableBytesView)
                if let envelope = try? Envelope(derEncoded: bytes) {
                    check(envelope.derBytes == bytes, "Envelope")
                } else {
                    _ = Envelope.peekID(bytes)
                }
            }
        }
        roundTrip(data, DomainState.self)
        roundTrip(data, DomainToken.self)
        roundTrip(data, SignedCommand.self)
        commandFile(data)
        roundTrip(data, SignedIdentity.self)
        roundTrip(data, SignedInit.self)
        roundTrip(data, SignedAccept.self)
        roundTrip(data, SessionRequest.self)
        roundTrip(data, SessionResponse.self)
        roundTrip(data, ExportedKeyToken.self)
        roundTrip(data, EncryptionContext.self)
        roundTrip(data, ShareHeader.self)
        roundTrip(data, SealedShare.self)
        roundTrip(data, RecoverRequest.self)
        let secret = SecretBytes(copying: data)
        if let command = try? SessionCommand(secretDER: secret) { check(command.secretDER == secret, "SessionCommand") }
        if let result = try? SessionResult(secretDER: secret) { check(result.secretDER == secret, "SessionResult") }
        for name in CommandArguments.commandNames {
            if let arguments = try? CommandArguments(command: name, arguments: data) {
                check(arguments.derBytes == data, name)
            }
        }
        if let blob = try? CiphertextBlob(bytes: data) { check(blob.bytes == data, "CiphertextBlob") }
        _ = try? DomainKeyList.decode(secret)
        sigV4(data)
        json(data)
        HSMFuzzing.run(data)
    }

    /// A quorum command file as the operator tools read it (`coffer command show|sign|submit`): a
    /// `SignedCommand`, its arguments, and its approvals and rule checked against a real domain state.
    private static func commandFile(_ data: [UInt8]) {
        guard let signed = try? SignedCommand(derEncoded: data), let state = HSMFuzzing.world?.state else { return }
        _ = try? CommandArguments(command: signed.command.command, arguments: signed.command.arguments)
        _ = try? CommandVerifier.checkApprovals(signed, operators: state.operators)
        _ = try? CommandVerifier.verify(signed, against: state, now: nil, checkTime: false)
        _ = try? CommandVerifier.verifyCreate(signed, now: nil, checkTime: false)
    }

    /// The AWS JSON reader and every operation's request shape: any input either reads or is refused
    /// with a SerializationException or ValidationException; a read value writes back as JSON that
    /// reads again to the same value.
    private static func json(_ data: [UInt8]) {
        if let value = try? JSONReader.read(data), case .object = value {
            for operation in KMSRegistry.operations { readRequest(operation, data) }
            // The same object as a key policy and as an identity policy: parsed or refused, never a crash,
            // and a parsed policy evaluates.
            let text = String(decoding: data, as: UTF8.self)
            for kind in [PolicyDocument.Kind.keyPolicy, .identityPolicy] {
                guard let policy = try? PolicyDocument(json: text, kind: kind) else { continue }
                _ = PolicyEvaluator.evaluate(
                    AuthorizationRequest(
                        action: "kms:Encrypt", principal: "arn:aws:iam::111122223333:user/fuzz",
                        account: "111122223333", resource: "arn:aws:kms:us-east-1:111122223333:key/fuzz",
                        conditionKeys: ["kms:encryptioncontext:a": ["b"], "aws:sourceip": ["127.0.0.1"]]),
                    keyPolicy: kind == .keyPolicy ? policy : nil, identityPolicies: kind == .keyPolicy ? [] : [policy])
            }
        }
    }

    private static func readRequest<Operation: KMSOperation>(_: Operation.Type, _ data: [UInt8]) {
        do {
            let input = try Operation.Input(json: data)
            let again = try Operation.Input(json: input.json)
            check(again.json == input.json, "\(Operation.name) request")
        } catch {
            check(
                error.code == .serialization || error.code == .validation, "\(Operation.name): \(error.code)")
        }
    }

    /// The SigV4 parsers: the input as an Authorization header, as X-Amz-Date, and as a query string.
    private static func sigV4(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let verifier = SigV4Verifier(service: "kms") { _ in
            .init(secret: SecretBytes(copying: [1, 2, 3]), account: "000000000000")
        }
        let headerForm = SigV4Request(
            method: "POST", path: "/", query: "",
            headers: [("Host", "h"), ("X-Amz-Date", text), ("Authorization", text)],
            body: data)
        _ = try? verifier.verify(headerForm, now: 1_800_000_000)
        let queryForm = SigV4Request(method: "GET", path: text, query: text, headers: [("Host", "h")], body: [])
        _ = try? verifier.verify(queryForm, now: 1_800_000_000)
        _ = SigV4.canonicalRequest(queryForm, signedHeaders: ["host"], payloadHash: "")
    }

    private static func roundTrip<M: DERMessage>(_ data: [UInt8], _ type: M.Type) {
        if let message = try? M(derEncoded: data) { check(message.derBytes == data, "\(M.self)") }
    }

    private static func check(_ condition: Bool, _ what: String) {
        // A fuzz finding, not peer input handling: trapping is how the fuzzer records the input.
        precondition(condition, "\(what) decoded but did not re-encode to the same bytes")
    }
}
