import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferWire
import Crypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A clock tests move by hand.
public final class TestClock: Sendable {
    private let value = NIOLockedValueBox(WireTime(secondsSinceEpoch: 1_800_000_000))
    public init() {}
    public var now: WireTime { value.withLockedValue { $0 } }
    public var seconds: Int64 { now.secondsSinceEpoch }
    public func advance(_ seconds: Int64) { value.withLockedValue { $0 = $0.adding(seconds: seconds) } }
}

/// A real HSMServer on an ephemeral loopback port, in this process, already a one-member domain with
/// one service host (`host-1`).
public struct InProcessHSM: Sendable {
    public let address: HSMAddress
    public let state: DomainState
    public let hostKey: P384.Signing.PrivateKey
    public let channel: any Channel
    public let server: HSMServer
    /// The domain's operators (alice, bob: admin; carol: admin and auditor), to sign commands with.
    public let operators: [String: DomainFixture.OperatorKey]

    public static func start(
        clock: TestClock, frameTimeout: TimeAmount = .seconds(30), unauthenticatedGrace: TimeAmount = .seconds(120)
    ) async throws -> InProcessHSM {
        let hostKey = P384.Signing.PrivateKey()
        var f = DomainFixture(seed: "in process \(UInt64.random(in: 0...UInt64.max))")
        f.now = clock.now
        let keys = HSMKeys.generate()
        var core = HSMCore(keys: keys)
        var random = SeededRandom(seed: "in process core \(UInt64.random(in: 0...UInt64.max))")
        let create = DomainCreate(
            name: "inproc", operators: f.operators.values.map(\.record),
            member: MemberAddition(identity: try f.identity(of: keys), kind: .online),
            hosts: [Host(id: "host-1", signingKey: P384PublicKey(hostKey.publicKey))], rules: DomainFixture.rules,
            parameters: .defaults)
        let signed = try f.sign(f.command(.create(create), base: nil), by: ["alice", "bob", "carol"])
        guard
            case .token(let token) = core.handle(
                Envelope(id: 1, body: .command(signed)), now: clock.now, random: &random
            ).answer.body
        else { throw FixtureError() }
        // The grace is long here (the product's is 10 s): CPU-bound suites beside these tests can hold both
        // cores for longer than 10 s between a connect and its first frame. The grace itself is tested with
        // a short one in InProcessServerTests.idleStrangersCannotLockHostsOut.
        let server = HSMServer(
            core: core, logger: Logger(label: "test"), clock: { clock.now }, frameTimeout: frameTimeout,
            unauthenticatedGrace: unauthenticatedGrace)
        let channel = try await server.bind(
            .tcp(host: "127.0.0.1", port: 0), group: MultiThreadedEventLoopGroup.singleton)
        guard let port = channel.localAddress?.port else { throw FixtureError() }
        return InProcessHSM(
            address: .tcp(host: "127.0.0.1", port: port), state: token.state, hostKey: hostKey, channel: channel,
            server: server, operators: f.operators)
    }

    public func stop() { channel.close(promise: nil) }

    /// Has the HSM execute `arguments` (signed by alice and bob) on `base`, the HSM's current state, over
    /// a connection as an operator's tool does; the new state.
    public func execute(_ arguments: CommandArguments, base: DomainState, now: WireTime) async throws -> DomainState {
        var f = DomainFixture(seed: "command \(UInt64.random(in: 0...UInt64.max))")
        f.operators = operators
        f.now = now
        let signed = try f.sign(f.command(arguments, base: base), by: ["alice", "bob"])
        let connection = try await HSMConnection.connect(to: address)
        defer { Task { await connection.close() } }
        guard case .token(let token) = try await connection.request(.command(signed)) else { throw FixtureError() }
        return token.state
    }
}

/// Runs every job of a task on one event loop, as the host's executor does for a request whose HTTP
/// connection lives on that loop.
public final class OneLoopExecutor: TaskExecutor {
    /// The loop every job runs on.
    public let loop: any EventLoop
    /// An executor for `loop`.
    public init(_ loop: any EventLoop) { self.loop = loop }
    /// Runs `job` on the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
