import CofferCrypto
import CofferWire
import Testing

/// Property: for random valid messages of every type, encode → decode → encode gives identical bytes
/// and an equal value. Seeds are fixed, so a failure names a reproducible case.
@Suite struct RoundTripTests {
    static let iterations = 150

    private func check<M: DERMessage & Equatable>(_ make: (inout MessageGenerator) -> M, seed: UInt64) throws {
        var generator = MessageGenerator(seed: seed)
        for iteration in 0..<Self.iterations {
            let message = make(&generator)
            let der = message.derBytes
            let decoded = try M(derEncoded: der)
            #expect(decoded == message, "\(M.self) seed \(seed) iteration \(iteration)")
            #expect(decoded.derBytes == der, "\(M.self) seed \(seed) iteration \(iteration)")
        }
    }

    @Test func domainStateRoundTrips() throws { try check({ $0.domainState() }, seed: 1) }
    @Test func signedCommandRoundTrips() throws { try check({ $0.signedCommand() }, seed: 2) }
    @Test func exportedKeyTokenRoundTrips() throws { try check({ $0.ekt() }, seed: 3) }
    @Test func encryptionContextRoundTrips() throws { try check({ $0.context() }, seed: 4) }
    @Test func domainTokenRoundTrips() throws { try check({ $0.domainToken() }, seed: 5) }
    @Test func envelopeOfEveryKindRoundTrips() throws { try check({ $0.envelope() }, seed: 6) }

    @Test func sessionCommandRoundTrips() throws {
        var generator = MessageGenerator(seed: 7)
        for _ in 0..<Self.iterations {
            let command = generator.sessionCommand()
            let decoded = try SessionCommand(secretDER: command.secretDER)
            #expect(decoded == command)
            #expect(decoded.secretDER == command.secretDER)
        }
    }

    @Test func sessionResultRoundTrips() throws {
        var generator = MessageGenerator(seed: 8)
        for _ in 0..<Self.iterations {
            let result = generator.sessionResult()
            let decoded = try SessionResult(secretDER: result.secretDER)
            #expect(decoded == result)
            #expect(decoded.secretDER == result.secretDER)
        }
    }

    @Test func commandArgumentsRoundTrip() throws {
        var generator = MessageGenerator(seed: 9)
        for _ in 0..<40 {
            let token = generator.domainToken()
            let identity = SignedIdentity(
                identity: HSMIdentity(
                    hsmID: generator.hsmID(), signingKey: generator.key(), agreementKey: generator.key(),
                    state: .uninitialized, challenge: generator.bytes(16)),
                signature: generator.bytes(100))
            let names = generator.uniqueNames(3)
            let all: [CommandArguments] = [
                .create(
                    DomainCreate(
                        name: generator.name(), operators: token.state.operators,
                        member: MemberAddition(identity: identity, kind: .online), hosts: token.state.hosts,
                        rules: token.state.rules, parameters: generator.parameters())),
                .modifyOperators(upsert: token.state.operators, remove: names),
                .modifyMembers(add: [MemberAddition(identity: identity, kind: .recovery)], remove: [generator.hsmID()]),
                .modifyHosts(add: token.state.hosts, remove: names),
                .modifyRules(token.state.rules), .modifyParameters(generator.parameters()), .rotateKeys, .join(token),
                .leave(hsmID: generator.hsmID()),
            ]
            for arguments in all {
                let decoded = try CommandArguments(command: arguments.commandName, arguments: arguments.derBytes)
                #expect(decoded == arguments)
                #expect(decoded.derBytes == arguments.derBytes)
            }
        }
    }

    @Test func wireTimeRoundTripsThroughItsText() {
        var generator = MessageGenerator(seed: 10)
        for _ in 0..<2000 {
            let time = generator.time()
            #expect(WireTime(generalizedTime: time.generalizedTimeBytes) == time, "\(time)")
        }
        #expect(WireTime(secondsSinceEpoch: 0).description == "19700101000000Z")
        #expect(WireTime(secondsSinceEpoch: 951_782_400).description == "20000229000000Z")
        #expect(WireTime(generalizedTime: Array("20240229120000Z".utf8)) != nil)
        #expect(WireTime(generalizedTime: Array("20230229120000Z".utf8)) == nil)
        #expect(WireTime(generalizedTime: Array("21000229120000Z".utf8)) == nil)
        #expect(WireTime(generalizedTime: Array("20240101240000Z".utf8)) == nil)
    }
}
