import Benchmark
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferWire
import Crypto

/// One HSM core in a one-member domain with one host, all in process: what a session request and a
/// handshake cost in CPU, without sockets.
/// A class so that the benchmark closure can drive it (setup values are passed as constants).
final class BenchWorld {
    var core: HSMCore
    let hostKey = P384.Signing.PrivateKey()
    let state: DomainState
    let backing: ExportedKeyToken
    var session: Session
    var random = SystemRandom()
    var requestID: Int64 = 0
    /// A further backing key a benchmark's setup made (signing and MAC benchmarks).
    var extra: ExportedKeyToken?
    let now = WireTime(secondsSinceEpoch: 1_800_000_000)

    init(extra spec: String? = nil) {
        let keys = HSMKeys.generate()
        let alice = P384.Signing.PrivateKey()
        var random = SystemRandom()
        core = HSMCore(keys: keys)
        let rules = [DomainCommand.modifyRules].map {
            CommandRule(command: $0, alternatives: [Rule([Requirement(role: "admin", minimum: 1)])])
        }
        let create = DomainCreate(
            name: "bench", operators: [Operator(id: "alice", signingKey: P384PublicKey(alice.publicKey), roles: ["admin"])],
            member: MemberAddition(identity: try! keys.signedIdentity(challenge: [UInt8](repeating: 0, count: 16)), kind: .online),
            hosts: [Host(id: "host-1", signingKey: P384PublicKey(hostKey.publicKey))], rules: rules, parameters: .defaults)
        let command = CommandBuilder.command(.create(create), base: nil, issuedAt: now, random: &random)
        let signed = SignedCommand(command: command, approvals: [try! CommandBuilder.approve(command, as: "alice", key: alice)])
        guard case .token(let token) = core.handle(Envelope(id: 1, body: .command(signed)), now: now, random: &random).answer.body
        else { fatalError("benchmark setup: create failed") }
        state = token.state
        session = BenchWorld.handshake(&core, hostKey: hostKey, state: state, now: now)
        let create2 = try! session.seal(.createBackingKey(keyID: [UInt8](repeating: 1, count: 16), backingKeyID: [UInt8](repeating: 2, count: 16), spec: "AES_256"), requestID: 1)
        guard case .sessionResponse(let response) = core.handle(Envelope(id: 2, body: .sessionRequest(create2)), now: now, random: &random).answer.body,
            case .token(let backing) = try! session.open(response, requestID: 1)
        else { fatalError("benchmark setup: createBackingKey failed") }
        self.backing = backing
        requestID = 1
        if let spec { extra = self.token(spec) }
    }

    /// A backing key of `spec`, made in the session.
    func token(_ spec: String) -> ExportedKeyToken {
        guard
            case .token(let token) = roundTrip(
                .createBackingKey(
                    keyID: [UInt8](repeating: 1, count: 16), backingKeyID: [UInt8](repeating: 3, count: 16), spec: spec))
        else { fatalError("benchmark setup: createBackingKey \(spec) failed") }
        return token
    }

    static func handshake(_ core: inout HSMCore, hostKey: P384.Signing.PrivateKey, state: DomainState, now: WireTime) -> Session {
        var random = SystemRandom()
        var handshake = SessionHandshake(hostID: "host-1", hostKey: hostKey, domain: state)
        let offer = try! handshake.start(now: now, random: &random)
        guard case .accept(let accept) = core.handle(Envelope(id: 9, body: .sessionInit(offer)), now: now, random: &random).answer.body
        else { fatalError("handshake refused") }
        return try! handshake.receive(accept: accept, now: now)
    }

    /// One session request round trip: seal, frame-level decode by the HSM, execute, seal, open.
    func roundTrip(_ command: SessionCommand) -> SessionResult {
        requestID += 1
        let request = try! session.seal(command, requestID: requestID)
        let bytes = Envelope(id: requestID, body: .sessionRequest(request)).derBytes
        let decoded = try! Envelope(derEncoded: bytes)
        let answer = core.handle(decoded, now: now, random: &random).answer
        let answerBytes = answer.derBytes
        guard case .sessionResponse(let response) = try! Envelope(derEncoded: answerBytes).body else { fatalError("refused") }
        return try! session.open(response, requestID: requestID)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal], maxDuration: .seconds(3))

    Benchmark("Session request round trip: Encrypt 64 bytes (in process)") { benchmark, world in
        let plaintext = SecretBytes(copying: [UInt8](repeating: 7, count: 64))
        let context = try! EncryptionContext(["tenant": "bench"])
        for _ in benchmark.scaledIterations {
            blackHole(world.roundTrip(.encrypt(key: world.backing, plaintext: plaintext, context: context)))
        }
    } setup: {
        BenchWorld()
    }

    Benchmark("Session request round trip: GenerateDataKey 32 bytes (in process)") { benchmark, world in
        for _ in benchmark.scaledIterations {
            blackHole(world.roundTrip(.generateDataKey(key: world.backing, length: 32, context: .empty, returnPlaintext: true)))
        }
    } setup: {
        BenchWorld()
    }

    for (spec, algorithm) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
        ("ML_DSA_65", "ML_DSA_SHAKE_256"),
    ] {
        Benchmark("Session request round trip: Sign 256 bytes, \(spec) (in process)") { benchmark, world in
            let token = world.extra!
            let message = SecretBytes(copying: [UInt8](repeating: 7, count: 256))
            for _ in benchmark.scaledIterations {
                blackHole(world.roundTrip(.sign(key: token, algorithm: algorithm, messageType: .raw, message: message)))
            }
        } setup: {
            BenchWorld(extra: spec)
        }
    }

    Benchmark("Session request round trip: GenerateMac 256 bytes, HMAC_256 (in process)") { benchmark, world in
        let token = world.extra!
        let message = SecretBytes(copying: [UInt8](repeating: 7, count: 256))
        for _ in benchmark.scaledIterations {
            blackHole(world.roundTrip(.generateMac(key: token, algorithm: "HMAC_SHA_256", message: message)))
        }
    } setup: {
        BenchWorld(extra: "HMAC_256")
    }

    authorizationBenchmarks()
    generateDataKeyBenchmarks()
    hotPathBenchmarks()
    hsmAloneBenchmarks()

    Benchmark("Session handshake: host and HSM (in process)") { benchmark, world in
        for _ in benchmark.scaledIterations {
            blackHole(BenchWorld.handshake(&world.core, hostKey: world.hostKey, state: world.state, now: world.now))
        }
    } setup: {
        BenchWorld()
    }
}
