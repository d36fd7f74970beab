import CofferCrypto
import CofferTestSupport
import CofferWire
import Foundation
import Testing

/// protocol.json's `der` section: each structure built from its listed fields gives the listed bytes,
/// decodes back to those fields, and re-encodes to the same bytes.
@Suite struct DERVectorTests {
    let vectors: ProtocolVectors
    init() throws { vectors = try ProtocolVectors.load() }

    @Test func hsmIdentityMatchesInBothStates() throws {
        let section = try vectors.section("der").object("hsmIdentity")
        var ran = 0
        for test in try section.objects("tests") {
            let fields = try test.object("fields")
            let keyName = try test.string("signingKeyName")
            let state = HSMIdentity.State(rawValue: Int64(try fields.int("state")))
            let identity = HSMIdentity(
                hsmID: try fields.string("hsmID"), signingKey: try vectors.publicKey(keyName),
                agreementKey: try vectors.publicKey(keyName.replacingOccurrences(of: "signing", with: "agreement")),
                state: try #require(state), domainID: (fields["domainID"] as? String).flatMap { Hex.decode($0) },
                epoch: (fields["epoch"] as? Int).map(Int64.init), challenge: try fields.hex("challenge"))
            #expect(identity.derBytes == (try test.hex("hsmIdentityDer")))
            #expect(Signing.toBeSigned(label: .hsmIdentity, message: identity.derBytes) == (try test.hex("toBeSigned")))
            let signed = try SignedIdentity(derEncoded: try test.hex("identityBodyDer"))
            #expect(signed.identity == identity)
            #expect(signed.signature == (try test.hex("signature")))
            #expect(signed.isSelfSigned)
            #expect(signed.identity.signingKey.fingerprint == identity.hsmID)
            #expect(
                SignedIdentity(identity: identity, signature: signed.signature).derBytes
                    == (try test.hex("identityBodyDer")))
            ran += 1
        }
        #expect(ran == 2)
    }

    /// The domain state of the `der` section, built from its fields.
    static func domainState(_ fields: [String: Any], _ vectors: ProtocolVectors) throws -> DomainState {
        let operators = try fields.objects("operators").map { op in
            Operator(
                id: try op.string("id"), signingKey: try vectors.publicKey(try op.string("key")),
                roles: op["roles"] as? [String] ?? [])
        }
        let members = try fields.objects("members").map { m in
            Member(
                hsmID: try m.string("hsmID"), signingKey: try vectors.publicKey(try m.string("signingKey")),
                agreementKey: try vectors.publicKey(try m.string("agreementKey")),
                kind: try #require(MemberKind(rawValue: Int64(try m.int("kind")))))
        }
        let hosts = try fields.objects("hosts").map { h in
            Host(id: try h.string("id"), signingKey: try vectors.publicKey(try h.string("key")))
        }
        let rules = try fields.objects("rules").map { rule in
            let alternatives = try #require(rule["alternatives"] as? [[[Any]]])
            return CommandRule(
                command: try rule.string("command"),
                alternatives: try alternatives.map { alternative in
                    Rule(
                        try alternative.map { pair in
                            Requirement(role: try #require(pair[0] as? String), minimum: try #require(pair[1] as? Int))
                        })
                })
        }
        let keys = try fields.objects("domainKeys").map {
            DomainKeyInfo(keyID: try $0.hex("keyID"), created: try $0.time("created"))
        }
        let p = try fields.object("parameters")
        return DomainState(
            domainID: try fields.hex("domainID"), name: try fields.string("name"),
            epoch: Int64(try fields.int("epoch")),
            previous: try fields.hex("previous"), operators: operators, members: members, hosts: hosts, rules: rules,
            domainKeys: keys,
            parameters: Parameters(
                sessionLifetime: try p.int("sessionLifetime"), domainKeyRetention: try p.int("domainKeyRetention"),
                commandMaxAge: try p.int("commandMaxAge"), clockSkew: try p.int("clockSkew")))
    }

    @Test func domainStateMatchesItsFieldsAndDigest() throws {
        let section = try vectors.section("der").object("domainState")
        let built = try Self.domainState(try section.object("fields"), vectors)
        let der = try section.hex("der")
        #expect(built.derBytes == der)
        #expect(built.digest == (try section.hex("digest")))
        let decoded = try DomainState(derEncoded: der)
        #expect(decoded == built)
        #expect(decoded.operators.first { $0.id == "bob" }?.roles == ["admin", "auditor"])
        #expect(decoded.members.map(\.kind) == [.recovery, .online])
        #expect(decoded.rules[1].alternatives[0].requirements.map(\.role) == ["admin", "auditor"])
        for member in decoded.members { #expect(member.signingKey.fingerprint == member.hsmID) }
    }

    @Test func quorumAndSignedCommandMatchAndTheirApprovalsVerify() throws {
        let section = try vectors.section("der")
        let q = try section.object("quorumCommand")
        let f = try q.object("fields")
        let command = QuorumCommand(
            domainID: try f.hex("domainID"), baseEpoch: Int64(try f.int("baseEpoch")),
            baseDigest: try f.hex("baseDigest"),
            command: try f.string("command"), arguments: try f.hex("arguments"), issuedAt: try f.time("issuedAt"),
            expiresAt: try f.time("expiresAt"), nonce: try f.hex("nonce"))
        #expect(command.derBytes == (try q.hex("der")))
        #expect(try CommandArguments(command: command.command, arguments: command.arguments) == .rotateKeys)
        let s = try section.object("signedCommand")
        var approvals: [Approval] = []
        for approval in try s.objects("approvals") {
            let id = try approval.string("operatorID")
            #expect(
                Signing.toBeSigned(label: .quorumCommand, message: command.derBytes) == (try approval.hex("toBeSigned"))
            )
            let signature = try approval.hex("signature")
            #expect(
                Signing.isValid(
                    signature, over: command.derBytes, label: .quorumCommand,
                    by: try vectors.publicKey(try approval.string("key"))))
            approvals.append(Approval(operatorID: id, signature: signature))
        }
        let signed = SignedCommand(command: command, approvals: approvals.reversed())
        #expect(signed.derBytes == (try s.hex("der")))
        #expect(try SignedCommand(derEncoded: try s.hex("der")) == signed)
    }

    @Test func commandArgumentsRoundTripForEveryCommand() throws {
        var ran = 0
        for test in try vectors.section("arguments").objects("tests") {
            let name = try test.string("command")
            let der = try test.hex("der")
            let arguments = try CommandArguments(command: name, arguments: der)
            #expect(arguments.commandName == name)
            #expect(arguments.derBytes == der, "\(name) re-encodes to the same bytes")
            switch arguments {
            case .create(let create):
                #expect(create.member.identity.derBytes == (try test.hex("memberSignedIdentityDer")))
                #expect(create.member.identity.isSelfSigned)
            case .modifyMembers(let add, _):
                #expect(add.first?.identity.derBytes == (try test.hex("addSignedIdentityDer")))
                #expect(add.first?.identity.isSelfSigned == true)
            case .join(let token):
                #expect(token.state.members.contains { $0.hsmID == token.exporter })
            default: break
            }
            ran += 1
        }
        print("arguments: ran \(ran) cases")
        #expect(ran == 9)
    }

    @Test func unknownCommandNameIsUnsupported() {
        #expect(throws: WireError.self) { try CommandArguments(command: "domain.reboot", arguments: [0x30, 0x00]) }
        do {
            _ = try CommandArguments(command: "domain.reboot", arguments: [0x30, 0x00])
        } catch {
            #expect(error.code == .unsupported)
        }
        // domain.recover is a command now: an empty SEQUENCE is malformed arguments, not an unknown name.
        do {
            _ = try CommandArguments(command: "domain.recover", arguments: [0x30, 0x00])
            Issue.record("empty DomainRecover arguments must be refused")
        } catch {
            #expect(error.code == .malformed)
        }
    }
}
