import CofferCrypto
import CofferWire

/// Checks that a domain token is a valid step of its domain's history (PROTOCOL §5, "Applying a token
/// elsewhere", and the chain verification of hosts and `coffer domain verify`).
public enum TokenVerifier {
    /// Checks `token` as the successor of `previous`: epoch and digest chain, the authorization meets
    /// `previous`'s rules (no time window), the new state is exactly what the command produces, the
    /// exporter is an online member of both states with the same keys (for `domain.leave`: the HSM it
    /// names), the exporter's signature, and one recipient per member of the new state.
    public static func verifySuccessor(_ token: DomainToken, of previous: DomainState) throws(DomainError) {
        let state = token.state
        guard state.domainID == previous.domainID else {
            throw DomainError(.wrongDomain, "the token is for another domain")
        }
        guard state.epoch == previous.epoch + 1, ConstantTime.equals(state.previous, previous.digest) else {
            throw DomainError(.staleBase, "the token's epoch \(state.epoch) does not follow epoch \(previous.epoch)")
        }
        let verified = try CommandVerifier.verify(token.authorization, against: previous, now: nil, checkTime: false)
        let exporter: Member
        switch verified.arguments {
        case .recover(let recover):
            // Exported by the recovering HSM, which only the new state lists (as its one online member).
            guard token.exporter == recover.member.identity.hsmID,
                let recovering = state.members.first(where: { $0.hsmID == token.exporter && $0.kind == .online })
            else {
                throw DomainError(.badExporter, "a domain.recover token is exported by the HSM that recovers")
            }
            exporter = recovering
        case .leave(let leaving):
            guard leaving == token.exporter,
                let leaver = previous.members.first(where: { $0.hsmID == token.exporter && $0.kind == .online })
            else {
                throw DomainError(.badExporter, "a domain.leave token is exported by the HSM that leaves")
            }
            exporter = leaver
        default:
            guard let member = previous.members.first(where: { $0.hsmID == token.exporter && $0.kind == .online }),
                state.members.contains(member)
            else {
                throw DomainError(
                    .badExporter, "exporter \(token.exporter) is not an online member of the previous and the new state"
                )
            }
            exporter = member
        }
        try checkSignature(token, by: exporter)
        let newKey = state.domainKeys.first
        let expected = try DomainTransition.apply(
            verified.arguments, to: previous, executor: token.exporter,
            newKey: verified.arguments == .rotateKeys ? newKey : nil)
        guard expected.derBytes == state.derBytes else {
            throw DomainError(
                .stateMismatch, "the token's state is not what \(token.authorization.command.command) produces")
        }
        try checkRecipients(token)
    }

    /// Checks a genesis token (epoch 0) against the pinned digest of its state: the `domain.create` that
    /// authorizes it is signed by every operator it lists, the state is exactly what it produces, and the
    /// creating HSM exported and signed it.
    public static func verifyGenesis(_ token: DomainToken, pinnedDigest: [UInt8]) throws(DomainError) {
        let state = token.state
        guard state.epoch == 0, state.previous == DomainTransition.genesisPrevious,
            ConstantTime.equals(state.digest, pinnedDigest)
        else {
            throw DomainError(.wrongGenesis, "the first token is not the pinned genesis \(Hex.encode(pinnedDigest))")
        }
        let create = try CommandVerifier.verifyCreate(token.authorization, now: nil, checkTime: false)
        guard let first = state.domainKeys.first else { throw DomainError(.stateMismatch, "no domain key") }
        let expected = try DomainTransition.genesis(
            create, domainID: token.authorization.command.domainID, firstKey: first)
        guard expected.derBytes == state.derBytes else {
            throw DomainError(.stateMismatch, "the genesis state is not what its domain.create produces")
        }
        guard let exporter = state.members.first(where: { $0.hsmID == token.exporter && $0.kind == .online }) else {
            throw DomainError(.badExporter, "the genesis token is exported by the creating HSM")
        }
        try checkSignature(token, by: exporter)
        try checkRecipients(token)
    }

    /// Verifies a whole chain from the pinned genesis digest; returns each verified state in order.
    public static func verifyChain(_ tokens: [DomainToken], genesisDigest: [UInt8]) throws(DomainError) -> [DomainState]
    {
        guard let genesis = tokens.first else { throw DomainError(.wrongGenesis, "no tokens") }
        try verifyGenesis(genesis, pinnedDigest: genesisDigest)
        return try verifySuccessors(tokens)
    }

    /// Verifies a chain whose first state is pinned by `anchor`: a genesis token is verified as one
    /// (signed by every operator it lists); a later state is trusted because whoever pinned its digest
    /// vouches for it (a recovery's quorum), and its token must be signed by an online member of that state,
    /// since the digest does not cover the sealed keys. Every later token is checked as a successor.
    public static func verifyChain(_ tokens: [DomainToken], anchor: [UInt8]) throws(DomainError) -> [DomainState] {
        guard let first = tokens.first else { throw DomainError(.wrongGenesis, "no tokens") }
        if first.state.epoch == 0 {
            try verifyGenesis(first, pinnedDigest: anchor)
        } else {
            guard ConstantTime.equals(first.state.digest, anchor) else {
                throw DomainError(.wrongGenesis, "the first token is not the pinned anchor \(Hex.encode(anchor))")
            }
            // The digest pins the state, not the sealed keys: the token must also be signed by an online member
            // of its own state (so a domain.leave token, whose exporter is gone from its state, is no anchor).
            guard let exporter = first.state.members.first(where: { $0.hsmID == first.exporter && $0.kind == .online })
            else {
                throw DomainError(.badExporter, "the anchor token is not exported by an online member of its state")
            }
            try checkSignature(first, by: exporter)
            try checkRecipients(first)
        }
        return try verifySuccessors(tokens)
    }

    private static func verifySuccessors(_ tokens: [DomainToken]) throws(DomainError) -> [DomainState] {
        var states = [tokens[0].state]
        for token in tokens.dropFirst() {
            try verifySuccessor(token, of: states[states.count - 1])
            states.append(token.state)
        }
        return states
    }

    static func checkSignature(_ token: DomainToken, by exporter: Member) throws(DomainError) {
        guard Signing.isValid(token.signature, over: token.toBeSigned, label: .domainToken, by: exporter.signingKey)
        else {
            throw DomainError(.badSignature, "the exporter's signature over the token does not verify")
        }
    }

    static func checkRecipients(_ token: DomainToken) throws(DomainError) {
        guard token.keys.recipients.map(\.hsmID) == token.state.members.map(\.hsmID) else {
            throw DomainError(.badRecipients, "the token's recipients are not exactly the state's members")
        }
    }
}
