import CofferCrypto
import CofferDomain
import CofferWire

/// Human-readable and JSON renderings of domain states, commands and tokens, for operators who must
/// review exactly what they approve.
enum Describe {
    static func rule(_ rule: Rule) -> String {
        rule.requirements.map { "\($0.minimum) × \($0.role)" }.joined(separator: " + ")
    }

    static func state(_ state: DomainState) -> [String] {
        var lines = [
            "domain \(state.name) (\(Hex.encode(state.domainID))), epoch \(state.epoch)",
            "  digest      \(Hex.encode(state.digest))",
            "  previous    \(Hex.encode(state.previous))",
            "  operators:",
        ]
        lines += state.operators.map {
            "    \($0.id) [\($0.roles.joined(separator: ", "))] key \($0.signingKey.fingerprint)"
        }
        lines.append("  members:")
        lines += state.members.map { "    \($0.hsmID) (\($0.kind == .online ? "online" : "recovery"))" }
        lines.append("  hosts:\(state.hosts.isEmpty ? " none" : "")")
        lines += state.hosts.map { "    \($0.id) key \($0.signingKey.fingerprint)" }
        lines.append("  rules:")
        lines += state.rules.map { "    \($0.command): \($0.alternatives.map(rule).joined(separator: "  or  "))" }
        lines.append("  domain keys (active first):")
        lines += state.domainKeys.map { "    \(Hex.encode($0.keyID)) created \($0.created)" }
        let p = state.parameters
        lines.append(
            "  parameters: sessionLifetime \(p.sessionLifetime) s, domainKeyRetention \(p.domainKeyRetention), "
                + "commandMaxAge \(p.commandMaxAge) s, clockSkew \(p.clockSkew) s")
        return lines
    }

    static func stateJSON(_ state: DomainState) -> [String: Any] {
        [
            "domainID": Hex.encode(state.domainID), "name": state.name, "epoch": state.epoch,
            "digest": Hex.encode(state.digest), "previous": Hex.encode(state.previous),
            "operators": state.operators.map {
                ["id": $0.id, "roles": $0.roles, "keyFingerprint": $0.signingKey.fingerprint] as [String: Any]
            },
            "members": state.members.map { ["hsmID": $0.hsmID, "kind": $0.kind == .online ? "online" : "recovery"] },
            "hosts": state.hosts.map { ["id": $0.id, "keyFingerprint": $0.signingKey.fingerprint] },
            "rules": state.rules.map { rule in
                [
                    "command": rule.command,
                    "alternatives": rule.alternatives.map {
                        $0.requirements.map { ["role": $0.role, "minimum": $0.minimum] }
                    },
                ]
                    as [String: Any]
            },
            "domainKeys": state.domainKeys.map { ["keyID": Hex.encode($0.keyID), "created": $0.created.description] },
            "parameters": [
                "sessionLifetime": state.parameters.sessionLifetime,
                "domainKeyRetention": state.parameters.domainKeyRetention,
                "commandMaxAge": state.parameters.commandMaxAge, "clockSkew": state.parameters.clockSkew,
            ],
        ]
    }

    /// What a command does, in words.
    static func arguments(_ arguments: CommandArguments) -> [String] {
        switch arguments {
        case .create(let create):
            var lines = ["create domain \"\(create.name)\" with:"]
            lines += create.operators.map {
                "  operator \($0.id) [\($0.roles.joined(separator: ", "))] key \($0.signingKey.fingerprint)"
            }
            lines.append("  first member (the executing HSM) \(create.member.identity.identity.hsmID)")
            lines += create.hosts.map { "  host \($0.id) key \($0.signingKey.fingerprint)" }
            lines += create.rules.map {
                "  rule \($0.command): \($0.alternatives.map(rule).joined(separator: "  or  "))"
            }
            let p = create.parameters
            lines.append(
                "  parameters: sessionLifetime \(p.sessionLifetime) s, domainKeyRetention \(p.domainKeyRetention), "
                    + "commandMaxAge \(p.commandMaxAge) s, clockSkew \(p.clockSkew) s")
            return lines
        case .modifyOperators(let upsert, let remove):
            return upsert.map {
                "add or replace operator \($0.id) [\($0.roles.joined(separator: ", "))] key \($0.signingKey.fingerprint)"
            }
                + remove.map { "remove operator \($0)" }
        case .modifyMembers(let add, let remove):
            return add.map {
                "add \($0.kind == .online ? "online" : "recovery") member \($0.identity.identity.hsmID)"
                    + ($0.identity.isSelfSigned
                        ? " (identity signature verifies)" : " (IDENTITY SIGNATURE DOES NOT VERIFY)")
            } + remove.map { "remove member \($0)" }
        case .modifyHosts(let add, let remove):
            return add.map { "add host \($0.id) key \($0.signingKey.fingerprint)" } + remove.map { "remove host \($0)" }
        case .modifyRules(let rules):
            return ["replace all rules with:"]
                + rules.map { "  \($0.command): \($0.alternatives.map(rule).joined(separator: "  or  "))" }
        case .modifyParameters(let p):
            return [
                "set parameters: sessionLifetime \(p.sessionLifetime) s, domainKeyRetention \(p.domainKeyRetention), "
                    + "commandMaxAge \(p.commandMaxAge) s, clockSkew \(p.clockSkew) s"
            ]
        case .rotateKeys:
            return ["draw a new active domain key (older keys kept up to the retention)"]
        case .join(let token):
            return [
                "join the domain at epoch \(token.state.epoch) (token state \(Hex.encode(token.state.digest.prefix(16))))"
            ]
        case .leave(let hsmID):
            return ["member \(hsmID) leaves the domain and wipes itself"]
        case .recover(let recover):
            let identity = recover.member
            return [
                "RECOVER the domain on HSM \(identity.identity.hsmID)"
                    + (identity.isSelfSigned
                        ? " (identity signature verifies)" : " (IDENTITY SIGNATURE DOES NOT VERIFY)"),
                "  it becomes the one online member; every other online member is dropped; recovery members stay",
                "  chain anchored at state \(Hex.encode(recover.anchor.prefix(16)))…",
            ]
        }
    }
}
