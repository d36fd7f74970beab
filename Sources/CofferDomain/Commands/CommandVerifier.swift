import CofferCrypto
import CofferWire

/// Verification of a quorum-signed command against a domain state, in the order of PROTOCOL §5,
/// stopping at the first failure, each failure its own ``DomainError/Code``.
public enum CommandVerifier {
    /// What a verified command carries on to execution.
    public struct Verified: Sendable {
        /// The parsed arguments.
        public let arguments: CommandArguments
        /// The quorum verdict (which alternative, which signer in which slot).
        public let verdict: Quorum.Verdict
    }

    /// Steps 0–5 of §5 for a command executed against `state` at `now`.
    ///
    /// `checkTime` is false when a member applies another member's token: the command's time window is
    /// not checked there, so a member that was down can catch up (§5).
    public static func verify(
        _ signed: SignedCommand, against state: DomainState, now: WireTime?, checkTime: Bool = true
    ) throws(DomainError) -> Verified {
        let command = signed.command
        // (0) the arguments parse strictly.
        let arguments: CommandArguments
        do {
            arguments = try CommandArguments(command: command.command, arguments: command.arguments)
        } catch {
            throw DomainError(error.code == .unsupported ? .noRule : .malformed, "\(command.command): \(error)")
        }
        // (1) the domain.
        guard command.domainID == state.domainID else {
            throw DomainError(.wrongDomain, "the command is for domain \(Hex.encode(command.domainID))")
        }
        // (2) the base: executing a command makes it useless (replay protection).
        guard command.baseEpoch == state.epoch, ConstantTime.equals(command.baseDigest, state.digest) else {
            throw DomainError(
                .staleBase, "the command was built on epoch \(command.baseEpoch); the domain is at \(state.epoch)")
        }
        // (3) the time window.
        if checkTime { try checkWindow(command, parameters: state.parameters, now: now) }
        // (4) every approval's operator exists and its signature verifies.
        let signers = try checkApprovals(signed, operators: state.operators)
        // (5) the rule.
        guard let rule = state.rules.first(where: { $0.command == command.command }) else {
            throw DomainError(.noRule, "the domain has no rule for \(command.command)")
        }
        guard let verdict = Quorum.evaluate(rule.alternatives, signers: signers) else {
            throw DomainError(
                .quorumNotMet,
                "\(signers.map(\.id).joined(separator: ", ")) do not meet any alternative for \(command.command)")
        }
        return Verified(arguments: arguments, verdict: verdict)
    }

    /// §5 (3): `issuedAt − clockSkew ≤ now ≤ expiresAt` and `expiresAt − issuedAt ≤ commandMaxAge`.
    public static func checkWindow(_ command: QuorumCommand, parameters: Parameters, now: WireTime?) throws(DomainError)
    {
        let issued = command.issuedAt.secondsSinceEpoch
        let expires = command.expiresAt.secondsSinceEpoch
        guard expires - issued <= Int64(parameters.commandMaxAge), expires >= issued else {
            throw DomainError(
                .timeWindow, "the command is valid for longer than commandMaxAge (\(parameters.commandMaxAge) s)")
        }
        guard let now else { return }
        guard issued - Int64(parameters.clockSkew) <= now.secondsSinceEpoch else {
            throw DomainError(.timeWindow, "the command is issued at \(command.issuedAt), in the future")
        }
        guard now.secondsSinceEpoch <= expires else {
            throw DomainError(.timeWindow, "the command expired at \(command.expiresAt)")
        }
    }

    /// §5 (4): the signers of `signed`, each known to `operators` and with a valid signature. One bad
    /// signature refuses the whole command.
    public static func checkApprovals(
        _ signed: SignedCommand, operators: [Operator]
    ) throws(DomainError) -> [Quorum.Signer] {
        var signers: [Quorum.Signer] = []
        for approval in signed.approvals {
            guard let op = operators.first(where: { $0.id == approval.operatorID }) else {
                throw DomainError(.unknownOperator, "\(approval.operatorID) is not an operator of this domain")
            }
            guard
                Signing.isValid(
                    approval.signature, over: signed.command.derBytes, label: .quorumCommand, by: op.signingKey)
            else {
                throw DomainError(.badSignature, "the approval of \(approval.operatorID) does not verify")
            }
            signers.append(Quorum.Signer(id: op.id, roles: op.roles))
        }
        return signers
    }

    /// `domain.create`: base epoch 0 and a zero digest, the time window under the tool-default
    /// parameters, and an approval by every operator the new state lists (§5). Returns the arguments.
    public static func verifyCreate(
        _ signed: SignedCommand, now: WireTime?, checkTime: Bool = true
    ) throws(DomainError)
        -> DomainCreate
    {
        let command = signed.command
        guard command.command == DomainCommand.create else {
            throw DomainError(.wrongState, "an uninitialized HSM executes only domain.create and domain.join")
        }
        let create: DomainCreate
        do {
            guard
                case .create(let parsed) = try CommandArguments(command: command.command, arguments: command.arguments)
            else { throw DomainError(.malformed, "domain.create arguments") }
            create = parsed
        } catch let error as DomainError {
            throw error
        } catch {
            throw DomainError(.malformed, "domain.create: \(error)")
        }
        guard command.baseEpoch == 0, command.baseDigest == DomainTransition.genesisPrevious else {
            throw DomainError(.staleBase, "domain.create is built on epoch 0 with a zero digest")
        }
        if checkTime { try checkWindow(command, parameters: .defaults, now: now) }
        let signers = try checkApprovals(signed, operators: create.operators)
        let missing = Set(create.operators.map(\.id)).subtracting(signers.map(\.id))
        guard missing.isEmpty, !signers.isEmpty else {
            throw DomainError(
                .quorumNotMet,
                "domain.create is signed by every listed operator; missing: \(missing.sorted().joined(separator: ", "))"
            )
        }
        return create
    }
}
