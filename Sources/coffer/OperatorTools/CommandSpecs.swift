import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferWire

/// Parsing of the compact command-line forms for operators, hosts, members and rules.
enum CommandSpecs {
    /// `id:role1,role2=path/to/key.pub.pem` (roles may be empty: `id:=path` or `id=path`).
    static func operatorSpec(_ spec: String) throws -> Operator {
        guard let equals = spec.firstIndex(of: "=") else {
            throw CLIError("operator \"\(spec)\": expected id:role,role=public-key-file")
        }
        let head = spec[..<equals]
        let path = String(spec[spec.index(after: equals)...])
        let parts = head.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let id = String(parts[0])
        let roles = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
        return Operator(id: id, signingKey: try CLIFiles.publicKey(path), roles: roles)
    }

    /// `id=path/to/key.pub.pem`.
    static func hostSpec(_ spec: String) throws -> Host {
        guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex else {
            throw CLIError("host \"\(spec)\": expected id=public-key-file")
        }
        return Host(
            id: String(spec[..<equals]), signingKey: try CLIFiles.publicKey(String(spec[spec.index(after: equals)...])))
    }

    /// `identity.der` or `identity.der:recovery` (a SignedIdentity written by `coffer hsm identify --out`),
    /// or a kit's `member.der` (a MemberAddition written by `coffer recovery create`, kind recovery).
    static func memberSpec(_ spec: String) throws -> MemberAddition {
        if let addition = try? MemberAddition(derEncoded: try CLIFiles.read(spec)) { return addition }
        var path = spec
        var kind = MemberKind.online
        if spec.hasSuffix(":recovery") {
            path = String(spec.dropLast(":recovery".count))
            kind = .recovery
        } else if spec.hasSuffix(":online") {
            path = String(spec.dropLast(":online".count))
        }
        return MemberAddition(identity: try CLIFiles.decode(SignedIdentity.self, from: path), kind: kind)
    }

    /// `command=role:min+role:min|role:min`; `*=…` stands for every command that has no rule of its own.
    static func rules(_ specs: [String]) throws -> [CommandRule] {
        var byCommand: [String: [Rule]] = [:]
        var fallback: [Rule]?
        for spec in specs {
            guard let equals = spec.firstIndex(of: "=") else {
                throw CLIError("rule \"\(spec)\": expected command=role:minimum+role:minimum|…")
            }
            let command = String(spec[..<equals])
            let alternatives = try spec[spec.index(after: equals)...].split(separator: "|").map { alternative in
                Rule(
                    try alternative.split(separator: "+").map { requirement in
                        let pair = requirement.split(separator: ":")
                        guard pair.count == 2, let minimum = Int(pair[1]) else {
                            throw CLIError("rule \"\(spec)\": \"\(requirement)\" is not role:minimum")
                        }
                        return Requirement(role: String(pair[0]), minimum: minimum)
                    })
            }
            if command == "*" { fallback = alternatives } else { byCommand[command] = alternatives }
        }
        if let fallback {
            for command in DomainCommand.ruled where byCommand[command] == nil { byCommand[command] = fallback }
        }
        return byCommand.map { CommandRule(command: $0.key, alternatives: $0.value) }.sortedByUTF8(\.command)
    }
}
