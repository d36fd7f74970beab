import CofferCrypto
import CofferDomain
import CofferHSM
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Crypto

/// Two HSM cores in one domain with one host, driven through envelopes exactly as the server drives them.
struct SessionWorld {
    var fixture: DomainFixture
    let keysA = HSMKeys.generate()
    let keysB = HSMKeys.generate()
    var a: HSMCore
    var b: HSMCore
    let hostKey: P384.Signing.PrivateKey
    let hostID = "host-1"
    var state: DomainState
    var random = SeededRandom(seed: "session world")
    private(set) var nextID: Int64 = 1

    /// A new domain; `hostKey` lets two domains share one host key (to test tokens across domains).
    init(hostKey: P384.Signing.PrivateKey = P384.Signing.PrivateKey()) throws {
        self.hostKey = hostKey
        fixture = DomainFixture(seed: "session world \(UInt64.random(in: 0...UInt64.max))")
        a = HSMCore(keys: keysA)
        b = HSMCore(keys: keysB)
        var f = fixture
        let (create, _) = try f.create(on: keysA)
        var token = try Self.token(Self.ask(&a, .command(create), now: f.now, random: &f.random))
        let hosts = try f.sign(
            f.command(
                .modifyHosts(add: [Host(id: hostID, signingKey: P384PublicKey(hostKey.publicKey))], remove: []),
                base: token.state),
            by: ["alice", "bob"])
        token = try Self.token(Self.ask(&a, .command(hosts), now: f.now, random: &f.random))
        let members = try f.sign(
            f.command(
                .modifyMembers(add: [MemberAddition(identity: try f.identity(of: keysB), kind: .online)], remove: []),
                base: token.state),
            by: ["alice", "bob"])
        token = try Self.token(Self.ask(&a, .command(members), now: f.now, random: &f.random))
        let join = try f.sign(f.command(.join(token), base: nil), by: ["alice", "bob"])
        _ = try Self.token(Self.ask(&b, .command(join), now: f.now, random: &f.random))
        state = token.state
        fixture = f
    }

    var now: WireTime { fixture.now }

    static func ask(
        _ core: inout HSMCore, _ body: Envelope.Body, now: WireTime, random: inout SeededRandom, id: Int64 = 1
    )
        -> Envelope.Body
    {
        core.handle(Envelope(id: id, body: body), now: now, random: &random).answer.body
    }

    static func token(_ body: Envelope.Body) throws -> DomainToken {
        guard case .token(let token) = body else { throw FixtureError() }
        return token
    }

    /// A handshake offer from the host.
    mutating func offer(now: WireTime? = nil) throws -> (SessionHandshake, SignedInit) {
        var handshake = SessionHandshake(hostID: hostID, hostKey: hostKey, domain: state)
        let offer = try handshake.start(now: now ?? self.now, random: &random)
        return (handshake, offer)
    }

    /// A full handshake with A (or B).
    mutating func session(onB: Bool = false) throws -> Session {
        var (handshake, offer) = try offer()
        let answer =
            onB
            ? Self.ask(&b, .sessionInit(offer), now: now, random: &random)
            : Self.ask(&a, .sessionInit(offer), now: now, random: &random)
        guard case .accept(let accept) = answer else { throw FixtureError() }
        return try handshake.receive(accept: accept, now: now)
    }

    /// Rotates A's domain keys until the one in use now is no longer held (domainKeyRetention + 1 times).
    mutating func rotateDomainKeyOut() throws {
        try rotateDomainKey(times: state.parameters.domainKeyRetention + 1)
    }

    /// Rotates A's domain key `times` times (the current key stays held for `domainKeyRetention` of them).
    mutating func rotateDomainKey(times: Int) throws {
        for _ in 0..<times {
            let rotate = try fixture.sign(fixture.command(.rotateKeys, base: state), by: ["alice", "bob"])
            state = try Self.token(Self.ask(&a, .command(rotate), now: fixture.now, random: &fixture.random)).state
        }
    }

    /// Sends a session command to A or B; returns the envelope answer.
    mutating func send(
        _ command: SessionCommand, session: Session, toB: Bool = false, requestID: Int64? = nil, now: WireTime? = nil
    ) throws -> Envelope.Body {
        nextID += 1
        let id = requestID ?? nextID
        let request = try session.seal(command, requestID: id)
        return toB
            ? Self.ask(&b, .sessionRequest(request), now: now ?? self.now, random: &random)
            : Self.ask(&a, .sessionRequest(request), now: now ?? self.now, random: &random)
    }

    /// Sends and opens: the result, or the envelope failure code.
    mutating func run(_ command: SessionCommand, session: Session, toB: Bool = false) throws -> SessionResult {
        let id = nextID + 1
        let answer = try send(command, session: session, toB: toB, requestID: id)
        guard case .sessionResponse(let response) = answer else {
            if case .failure(let failure) = answer { throw failure }
            throw FixtureError()
        }
        return try session.open(response, requestID: id)
    }
}
