import CofferCrypto
import CofferDomain
import CofferWire
import Crypto

/// A domain under test: three operators, HSMs, a clock, a seeded random source, and helpers that build,
/// sign and execute commands the way operators and HSMs do.
public struct DomainFixture {
    public struct OperatorKey: Sendable {
        public let id: String
        public let key: P384.Signing.PrivateKey
        public let roles: [String]
        public var record: Operator { Operator(id: id, signingKey: P384PublicKey(key.publicKey), roles: roles) }
    }

    public var operators: [String: OperatorKey] = [:]
    public var random: SeededRandom
    public var now = WireTime(generalizedTime: Array("20260101000000Z".utf8))!

    /// A fixture whose randomness (domain ids, keys, nonces) is the stream of `seed`.
    public init(seed: String = "domain fixture") {
        random = SeededRandom(seed: seed)
        for (id, roles) in [("alice", ["admin"]), ("bob", ["admin"]), ("carol", ["admin", "auditor"])] {
            operators[id] = OperatorKey(id: id, key: P384.Signing.PrivateKey(), roles: roles)
        }
    }

    /// admin ≥ 2 for everything; rotateKeys also by admin + auditor.
    public static var rules: [CommandRule] {
        let twoAdmins = Rule([Requirement(role: "admin", minimum: 2)])
        let adminAndAuditor = Rule([Requirement(role: "admin", minimum: 1), Requirement(role: "auditor", minimum: 1)])
        return DomainCommand.ruled.sorted().map { command in
            CommandRule(
                command: command,
                alternatives: command == DomainCommand.rotateKeys ? [adminAndAuditor, twoAdmins] : [twoAdmins])
        }
    }

    public func identity(of hsm: HSMKeys) throws -> SignedIdentity {
        try hsm.signedIdentity(challenge: [UInt8](repeating: 1, count: 16))
    }

    public mutating func command(
        _ arguments: CommandArguments, base: DomainState?, lifetime: Int64 = 3600
    ) -> QuorumCommand {
        CommandBuilder.command(arguments, base: base, issuedAt: now, lifetime: lifetime, random: &random)
    }

    public func sign(_ command: QuorumCommand, by ids: [String]) throws -> SignedCommand {
        SignedCommand(
            command: command,
            approvals: try ids.map { id in
                guard let op = operators[id] else { throw FixtureError() }
                return try CommandBuilder.approve(command, as: id, key: op.key)
            })
    }

    /// Genesis on `hsm` with the three operators, retention `retention`.
    public mutating func create(on hsm: HSMKeys, retention: Int = 2) throws -> (SignedCommand, DomainEngine.Outcome) {
        let create = DomainCreate(
            name: "test", operators: operators.values.map(\.record),
            member: MemberAddition(identity: try identity(of: hsm), kind: .online),
            hosts: [], rules: Self.rules,
            parameters: Parameters(
                sessionLifetime: 3600, domainKeyRetention: retention, commandMaxAge: 86_400, clockSkew: 300))
        let signed = try sign(command(.create(create), base: nil), by: ["alice", "bob", "carol"])
        return (signed, try DomainEngine.execute(signed, membership: nil, hsm: hsm, now: now, random: &random))
    }

    public mutating func execute(
        _ arguments: CommandArguments, on hsm: HSMKeys, _ membership: DomainMembership,
        by ids: [String] = ["alice", "bob"]
    ) throws -> (SignedCommand, DomainEngine.Outcome) {
        let signed = try sign(command(arguments, base: membership.state), by: ids)
        return (signed, try DomainEngine.execute(signed, membership: membership, hsm: hsm, now: now, random: &random))
    }
}

public struct FixtureError: Error {
    public init() {}
}

/// Runs `body` and returns the DomainError code it throws, or nil.
public func domainErrorCode(_ body: () throws -> Void) -> DomainError.Code? {
    do {
        try body()
        return nil
    } catch let error as DomainError {
        return error.code
    } catch {
        return nil
    }
}
