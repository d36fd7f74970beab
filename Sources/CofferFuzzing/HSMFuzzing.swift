import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferWire
import Crypto
import NIOCore

/// The fuzz entry for the HSM's whole request handler, in process, against a real operational state
/// (issue 13): a one-member domain of two operators and one host, and an open session, all made from
/// fixed seeds so that the same input does the same thing in every run. The input is read as a stream of
/// frames; each body goes to ``HSMCore/handle(_:now:random:)`` of a copy of that HSM, exactly as the
/// server hands it over. Nothing may trap; whatever the HSM answers must encode.
public enum HSMFuzzing {
    /// The fixed time of every request.
    static let now = WireTime(secondsSinceEpoch: 1_800_000_000)

    /// The HSM, its domain, the host key and an established session (nil only if the setup itself
    /// failed, which `seeds()`'s test rules out).
    static let world: World? = try? World()

    struct World {
        let core: HSMCore
        let state: DomainState
        let hostKey: P384.Signing.PrivateKey
        let session: Session
        /// A P-256 signing key's, an HMAC_256 key's, an AES_256 key's and an RSA_2048 key's tokens, made in
        /// the session (requests 2 to 5).
        let signingToken: ExportedKeyToken
        let macToken: ExportedKeyToken
        let symmetricToken: ExportedKeyToken
        let rsaToken: ExportedKeyToken

        init() throws {
            var random = SeededRandom(seed: "coffer fuzz hsm")
            func signingKey(_ name: String) throws -> P384.Signing.PrivateKey {
                let scalar = Array(SHA384.hash(data: Array("coffer fuzz \(name)".utf8)))
                return try P384.Signing.PrivateKey(rawRepresentation: scalar)
            }
            let keys = HSMKeys(
                signing: try signingKey("hsm signing"),
                agreement: try P384.KeyAgreement.PrivateKey(
                    rawRepresentation: Array(SHA384.hash(data: Array("coffer fuzz hsm agreement".utf8)))))
            let operators = [("alice", try signingKey("alice")), ("bob", try signingKey("bob"))]
            let hostKey = try signingKey("host-1")
            let rules = DomainCommand.ruled.sorted().map {
                CommandRule(command: $0, alternatives: [Rule([Requirement(role: "admin", minimum: 2)])])
            }
            let create = DomainCreate(
                name: "fuzz",
                operators: operators.map {
                    Operator(id: $0.0, signingKey: P384PublicKey($0.1.publicKey), roles: ["admin"])
                },
                member: MemberAddition(
                    identity: try keys.signedIdentity(challenge: random.bytes(count: 16)), kind: .online),
                hosts: [Host(id: "host-1", signingKey: P384PublicKey(hostKey.publicKey))], rules: rules,
                parameters: .defaults)
            let command = CommandBuilder.command(.create(create), base: nil, issuedAt: HSMFuzzing.now, random: &random)
            let signed = SignedCommand(
                command: command,
                approvals: try operators.map { try CommandBuilder.approve(command, as: $0.0, key: $0.1) })
            var core = HSMCore(keys: keys)
            guard
                case .token(let token) = core.handle(
                    Envelope(id: 1, body: .command(signed)), now: HSMFuzzing.now, random: &random
                ).answer.body
            else { throw FuzzSetupFailed() }
            var handshake = SessionHandshake(hostID: "host-1", hostKey: hostKey, domain: token.state)
            let offer = try handshake.start(now: HSMFuzzing.now, random: &random)
            guard
                case .accept(let accept) = core.handle(
                    Envelope(id: 2, body: .sessionInit(offer)), now: HSMFuzzing.now, random: &random
                ).answer.body
            else { throw FuzzSetupFailed() }
            let session = try handshake.receive(accept: accept, now: HSMFuzzing.now)
            func makeKey(_ spec: String, requestID: Int64) throws -> ExportedKeyToken {
                let command = SessionCommand.createBackingKey(
                    keyID: [UInt8](repeating: 7, count: 16),
                    backingKeyID: [UInt8](repeating: UInt8(requestID), count: 16),
                    spec: spec)
                guard
                    case .sessionResponse(let response) = core.handle(
                        Envelope(
                            id: requestID, body: .sessionRequest(try session.seal(command, requestID: requestID))),
                        now: HSMFuzzing.now, random: &random
                    ).answer.body,
                    case .token(let token) = try session.open(response, requestID: requestID)
                else { throw FuzzSetupFailed() }
                return token
            }
            signingToken = try makeKey("ECC_NIST_P256", requestID: 2)
            macToken = try makeKey("HMAC_256", requestID: 3)
            symmetricToken = try makeKey("AES_256", requestID: 4)
            rsaToken = try makeKey("RSA_2048", requestID: 5)
            self.core = core
            state = token.state
            self.hostKey = hostKey
            self.session = session
        }
    }

    struct FuzzSetupFailed: Error {}

    /// Runs one input.
    public static func run(_ data: [UInt8]) { _ = answers(data) }

    /// The HSM's answers to the input's frames, in order.
    public static func answers(_ data: [UInt8]) -> [Envelope] {
        guard var core = world?.core else { return [] }
        var random = SeededRandom(seed: "coffer fuzz input")
        var buffer = ByteBuffer(bytes: data)
        var answers: [Envelope] = []
        while let frame = try? FrameParser.nextFrame(from: &buffer) {
            guard case .body(let body) = frame,
                let envelope = try? Envelope(derEncoded: Array(body.readableBytesView)), envelope.body.isRequest
            else { continue }
            let (answer, _) = core.handle(envelope, now: now, random: &random)
            _ = answer.derBytes
            answers.append(answer)
        }
        return answers
    }

    /// Frames that reach deep into the handler: an identify, a fresh session offer, and session requests
    /// of every kind under the established session. Written to the replay corpus as `hsm-*` seeds.
    public static func seeds() throws -> [[UInt8]] {
        guard let world else { throw FuzzSetupFailed() }
        var random = SeededRandom(seed: "coffer fuzz seeds")
        var handshake = SessionHandshake(hostID: "host-1", hostKey: world.hostKey, domain: world.state)
        let offer = try handshake.start(now: now, random: &random)
        let keyID = [UInt8](repeating: 7, count: 16)
        let message = SecretBytes(copying: Array("coffer fuzz message".utf8))
        let signature = [UInt8](repeating: 0x30, count: 70)
        let commands: [SessionCommand] = [
            .generateRandom(length: 32),
            .createBackingKey(keyID: keyID, backingKeyID: [UInt8](repeating: 9, count: 16), spec: "AES_256"),
            .createBackingKey(
                keyID: keyID, backingKeyID: [UInt8](repeating: 10, count: 16), spec: "ECC_NIST_EDWARDS25519"),
            .sign(key: world.signingToken, algorithm: "ECDSA_SHA_256", messageType: .raw, message: message),
            .verify(
                key: world.signingToken, algorithm: "ECDSA_SHA_256", messageType: .raw, message: message,
                signature: signature),
            .publicKey(key: world.signingToken),
            .generateMac(key: world.macToken, algorithm: "HMAC_SHA_256", message: message),
            .verifyMac(
                key: world.macToken, algorithm: "HMAC_SHA_256", message: message,
                mac: [UInt8](repeating: 1, count: 32)),
            // A sealed access key, and a day key asked of a token of another spec (refused after parsing).
            .sealAccessKey(binding: keyID, secret: message),
            .deriveSigV4DateKey(key: world.macToken, day: "20260101"),
            // Both directions of reEncryptWith, past the token checks into RSA-OAEP and the §8 blob.
            .reEncryptWith(
                source: world.rsaToken, sourceAlgorithm: "RSAES_OAEP_SHA_256",
                ciphertext: [UInt8](repeating: 0x42, count: 256), sourceContext: .empty,
                destination: world.symmetricToken, destinationAlgorithm: "SYMMETRIC_DEFAULT", destinationContext: .empty
            ),
            .reEncryptWith(
                source: world.symmetricToken, sourceAlgorithm: "SYMMETRIC_DEFAULT", ciphertext: signature,
                sourceContext: .empty, destination: world.rsaToken, destinationAlgorithm: "RSAES_OAEP_SHA_1",
                destinationContext: .empty),
        ]
        var envelopes = [
            Envelope(id: 1, body: .identify(challenge: [UInt8](repeating: 1, count: 16))),
            Envelope(id: 2, body: .sessionInit(offer)), Envelope(id: 3, body: .currentToken),
        ]
        for (index, command) in commands.enumerated() {
            envelopes.append(
                Envelope(
                    id: Int64(10 + index),
                    body: .sessionRequest(try world.session.seal(command, requestID: Int64(10 + index)))))
        }
        return envelopes.map { envelope in
            var frame = ByteBuffer()
            FrameParser.writeFrame(envelope.derBytes, to: &frame)
            return Array(frame.readableBytesView)
        }
    }
}
