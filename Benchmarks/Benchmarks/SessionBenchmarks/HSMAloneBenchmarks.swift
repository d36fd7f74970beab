import Benchmark
import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferWire
import Crypto

/// What one HSM core spends on its own (issue 12's "one HSM core serves ≥ 100,000 session requests/s, a
/// handshake costs the HSM ≤ 4 ms of CPU"): the requests are sealed by the host before the measurement,
/// and only the HSM's part is measured — decoding the frame's envelope, `HSMCore.handle` (the session key
/// from its cache, the anti-replay window, the command opened and executed, the result sealed) and encoding
/// the answer. Caches are warm: the session's EKT has been opened once before.
func hsmAloneBenchmarks() {
    let batch = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal], scalingFactor: .kilo,
        maxDuration: .seconds(3))

    for (name, command) in [
        (
            "GenerateDataKey 32 bytes",
            { (world: BenchWorld) in
                SessionCommand.generateDataKey(key: world.backing, length: 32, context: .empty, returnPlaintext: true)
            }
        ),
        (
            "Encrypt 64 bytes, one context pair",
            { (world: BenchWorld) in
                SessionCommand.encrypt(
                    key: world.backing, plaintext: SecretBytes(copying: [UInt8](repeating: 7, count: 64)),
                    context: try! EncryptionContext(["tenant": "bench"]))
            }
        ),
    ] {
        Benchmark("HSM alone: session request, \(name) (in process, warm caches)", configuration: batch) {
            benchmark, world in
            let frames = world.sealedFrames(command(world), count: benchmark.scaledIterations.count)
            benchmark.startMeasurement()
            for frame in frames {
                blackHole(world.serve(frame))
            }
            benchmark.stopMeasurement()
        } setup: {
            let world = BenchWorld()
            _ = world.roundTrip(command(world))  // the session key opened and cached
            return world
        }
    }

    // The floor under a session request: what its primitives cost through swift-crypto's API, alone. A
    // GenerateDataKey opens one AES-GCM box and seals two (the blob and the answer), derives one key
    // with HMAC-SHA256 and draws random bytes three times.
    let key = SymmetricKey(size: .bits256)
    let plaintext = [UInt8](repeating: 7, count: 32)
    let aad = [UInt8](repeating: 1, count: 60)
    Benchmark("Primitive: swift-crypto AES.GCM.seal, 32 bytes (a fresh nonce, the combined box)", configuration: batch) {
        benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! AES.GCM.seal(plaintext, using: key, authenticating: aad).combined)
        }
    }
    Benchmark("Primitive: CofferCrypto AEAD.seal, 32 bytes (swift-crypto's seal, copied out as IV ‖ ct ‖ tag)", configuration: batch) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! AEAD.seal(plaintext, key: key, aad: aad)) }
    }
    let sealed = try! AEAD.seal(plaintext, key: key, aad: aad)
    Benchmark("Primitive: CofferCrypto AEAD.open, 32 bytes (into SecretBytes)", configuration: batch) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! AEAD.open(sealed, key: key, aad: aad)) }
    }
    Benchmark("Primitive: HMAC-SHA256 of 53 bytes (DeriveDEK's PRF)", configuration: batch) { benchmark in
        let input = [UInt8](repeating: 3, count: 53)
        for _ in benchmark.scaledIterations { blackHole(HMAC<SHA256>.authenticationCode(for: input, using: key)) }
    }
    Benchmark("Primitive: 28 random bytes from the kernel (SystemEntropy, one getrandom)", configuration: batch) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(SystemEntropy.bytes(count: 28)) }
    }

    Benchmark(
        "HSM alone: session handshake, the HSM's part (Sig1 verified, ECDHE, Sig2, ESK and EKT sealed)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal], maxDuration: .seconds(5))
    ) { benchmark, world in
        var random = SystemRandom()
        var handshakes = (0..<benchmark.scaledIterations.count).map { _ in
            SessionHandshake(hostID: "host-1", hostKey: world.hostKey, domain: world.state)
        }
        let offers = handshakes.indices.map { try! handshakes[$0].start(now: world.now, random: &random) }
        benchmark.startMeasurement()
        for (number, offer) in offers.enumerated() {
            let envelope = try! Envelope(
                derEncoded: Envelope(id: Int64(number + 10), body: .sessionInit(offer)).derBytes)
            let answer = world.core.handle(envelope, now: world.now, random: &random).answer
            blackHole(answer.derBytes)
        }
        benchmark.stopMeasurement()
    } setup: {
        BenchWorld()
    }
}

extension BenchWorld {
    /// `count` session requests of `command`, sealed by the host and framed, with fresh request ids.
    func sealedFrames(_ command: SessionCommand, count: Int) -> [[UInt8]] {
        (0..<count).map { _ in
            requestID += 1
            return Envelope(id: requestID, body: .sessionRequest(try! session.seal(command, requestID: requestID)))
                .derBytes
        }
    }

    /// The HSM's part of a request: the frame decoded, handled, the answer encoded.
    func serve(_ frame: [UInt8]) -> [UInt8] {
        let answer = core.handle(try! Envelope(derEncoded: frame), now: now, random: &random).answer
        guard case .sessionResponse = answer.body else { fatalError("refused: \(answer.body)") }
        return answer.derBytes
    }
}
