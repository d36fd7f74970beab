import CofferCrypto
import CofferWire
import Crypto

/// Phase 1 and 2 of PROTOCOL §5 on the operator side: building a command against a state, and
/// approving (signing) it.
public enum CommandBuilder {
    /// How long a new command is valid by default: one hour.
    public static let defaultLifetime: Int64 = 3600

    /// A command with `arguments` against `base` (nil for `domain.create`, which is built on epoch 0
    /// with a zero digest and a fresh `domainID`).
    public static func command(
        _ arguments: CommandArguments, base: DomainState?, issuedAt: WireTime, lifetime: Int64 = defaultLifetime,
        random: inout some RandomSource, domainID: [UInt8]? = nil
    ) -> QuorumCommand {
        let baseState: DomainState?
        if case .join(let token) = arguments { baseState = token.state } else { baseState = base }
        return QuorumCommand(
            domainID: baseState?.domainID ?? domainID ?? random.bytes(count: WireLimits.domainIDLength),
            baseEpoch: baseState?.epoch ?? 0, baseDigest: baseState?.digest ?? DomainTransition.genesisPrevious,
            command: arguments.commandName, arguments: arguments.derBytes, issuedAt: issuedAt,
            expiresAt: issuedAt.adding(seconds: lifetime), nonce: random.bytes(count: WireLimits.keyIDLength))
    }

    /// `Approval(operatorID, Sign(dOp, "coffer quorum command v1", DER(command)))`.
    public static func approve(
        _ command: QuorumCommand, as operatorID: String, key: P384.Signing.PrivateKey
    ) throws(DomainError) -> Approval {
        do {
            return Approval(
                operatorID: operatorID, signature: try Signing.sign(command.derBytes, label: .quorumCommand, with: key))
        } catch {
            throw DomainError(.invalidArgument, "signing failed")
        }
    }
}
