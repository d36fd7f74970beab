import CofferCrypto
import CofferDomain
import CofferWire

/// Everything an operator needs to judge a command: what it does, against which state, its validity
/// window, each approval and whether it verifies, and whether the rule is met or what is missing.
struct CommandReport {
    struct ApprovalCheck {
        let operatorID: String
        let valid: Bool
        let detail: String
    }

    let signed: SignedCommand
    let arguments: CommandArguments?
    let argumentsError: String?
    /// The operators who may sign: the create command's own, the join token's, or the given state's.
    let operators: [Operator]?
    let approvals: [ApprovalCheck]
    let rules: [CommandRule]?
    let baseMatches: Bool?
    let ruleStatus: String

    init(_ signed: SignedCommand, state: DomainState?) {
        self.signed = signed
        let command = signed.command
        do {
            arguments = try CommandArguments(command: command.command, arguments: command.arguments)
            argumentsError = nil
        } catch {
            arguments = nil
            argumentsError = "its arguments do not parse: \(error)"
        }
        var rulesState = state
        switch arguments {
        case .create(let create)?: operators = create.operators
        case .join(let token)?:
            operators = token.state.operators
            rulesState = token.state
        default: operators = state?.operators
        }
        rules = rulesState?.rules
        baseMatches = rulesState.map {
            $0.epoch == command.baseEpoch && $0.digest == command.baseDigest && $0.domainID == command.domainID
        }
        let checks = signed.approvals.map { [operators] approval in
            guard let op = operators?.first(where: { $0.id == approval.operatorID }) else {
                return ApprovalCheck(
                    operatorID: approval.operatorID, valid: false,
                    detail: operators == nil ? "no state to check against" : "not an operator")
            }
            let ok = Signing.isValid(
                approval.signature, over: command.derBytes, label: .quorumCommand, by: op.signingKey)
            return ApprovalCheck(
                operatorID: approval.operatorID, valid: ok,
                detail: ok ? "signature verifies" : "SIGNATURE DOES NOT VERIFY")
        }
        approvals = checks
        let valid = signed.approvals.filter { a in checks.contains { $0.operatorID == a.operatorID && $0.valid } }
        let signers = valid.compactMap { [operators] a in operators?.first { $0.id == a.operatorID } }
            .map { Quorum.Signer(id: $0.id, roles: $0.roles) }
        if case .create(let create)? = arguments {
            let missing = create.operators.map(\.id).filter { id in !signers.contains { $0.id == id } }
            ruleStatus =
                missing.isEmpty
                ? "met: every listed operator signed"
                : "not met: still needs \(missing.joined(separator: ", ")) (every listed operator signs domain.create)"
        } else if let rules {
            if let rule = rules.first(where: { $0.command == command.command }) {
                if let verdict = Quorum.evaluate(rule.alternatives, signers: signers) {
                    ruleStatus =
                        "met: alternative \(verdict.alternative + 1) (\(Describe.rule(rule.alternatives[verdict.alternative]))) by \(verdict.assignment.joined(separator: ", "))"
                } else {
                    ruleStatus =
                        "not met: needs \(rule.alternatives.map(Describe.rule).joined(separator: "  or  ")); valid approvals so far: \(signers.isEmpty ? "none" : signers.map(\.id).joined(separator: ", "))"
                }
            } else {
                ruleStatus = "not met: the domain has no rule for \(command.command)"
            }
        } else {
            ruleStatus = "unknown: pass --state current.token to check the rule"
        }
    }

    func printText() {
        let command = signed.command
        print("command \(command.command) for domain \(Hex.encode(command.domainID))")
        print(
            "  built on epoch \(command.baseEpoch), state \(Hex.encode(command.baseDigest.prefix(16)))…"
                + (baseMatches.map {
                    $0 ? " (matches the given state)" : " (DOES NOT MATCH the given state: stale or foreign)"
                } ?? ""))
        print("  valid \(command.issuedAt) … \(command.expiresAt)")
        print("  nonce \(Hex.encode(command.nonce))")
        if let arguments {
            print("  what it does:")
            for line in Describe.arguments(arguments) { print("    " + line) }
        } else if let argumentsError {
            print("  INVALID: \(argumentsError)")
        }
        print("  approvals:\(approvals.isEmpty ? " none" : "")")
        for approval in approvals { print("    \(approval.operatorID): \(approval.detail)") }
        print("  rule: \(ruleStatus)")
    }

    var json: [String: Any] {
        let command = signed.command
        var out: [String: Any] = [
            "command": command.command, "domainID": Hex.encode(command.domainID), "baseEpoch": command.baseEpoch,
            "baseDigest": Hex.encode(command.baseDigest), "issuedAt": command.issuedAt.description,
            "expiresAt": command.expiresAt.description, "nonce": Hex.encode(command.nonce),
            "approvals": approvals.map {
                ["operatorID": $0.operatorID, "valid": $0.valid, "detail": $0.detail] as [String: Any]
            },
            "rule": ruleStatus, "ruleMet": ruleStatus.hasPrefix("met"),
            "description": arguments.map(Describe.arguments) ?? [],
        ]
        if let baseMatches { out["baseMatchesState"] = baseMatches }
        if let argumentsError { out["error"] = argumentsError }
        return out
    }
}
