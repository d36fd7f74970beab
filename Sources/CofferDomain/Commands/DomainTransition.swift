import CofferCrypto
import CofferWire

/// Command execution as a pure function (PROTOCOL §5): the state a command produces from the current
/// one. The executing HSM and every member that applies the resulting token run the same function, so
/// "the new state is exactly what the command produces" is a byte comparison.
public enum DomainTransition {
    /// The zero digest that stands for "no previous state" at epoch 0.
    public static let genesisPrevious = [UInt8](repeating: 0, count: WireLimits.digestLength)

    /// The genesis state of `create` (epoch 0) with its first domain key.
    public static func genesis(
        _ create: DomainCreate, domainID: [UInt8], firstKey: DomainKeyInfo
    ) throws(DomainError) -> DomainState {
        try checkNewMember(create.member, "domain.create")
        guard create.member.kind == .online else {
            throw DomainError(.invalidArgument, "the creating HSM must be an online member")
        }
        let identity = create.member.identity.identity
        let state = DomainState(
            domainID: domainID, name: create.name, epoch: 0, previous: genesisPrevious, operators: create.operators,
            members: [
                Member(
                    hsmID: identity.hsmID, signingKey: identity.signingKey, agreementKey: identity.agreementKey,
                    kind: .online)
            ],
            hosts: create.hosts, rules: create.rules, domainKeys: [firstKey], parameters: create.parameters)
        try DomainInvariants.check(state)
        return state
    }

    /// The state `arguments` produce from `state` when executed by `executor`.
    ///
    /// `newKey` is the record of the domain key `rotateKeys` draws (the executing HSM draws it; a member
    /// applying the token takes it from the token). `join` and `create` produce no successor state.
    public static func apply(
        _ arguments: CommandArguments, to state: DomainState, executor: String, newKey: DomainKeyInfo?
    ) throws(DomainError) -> DomainState {
        var operators = state.operators
        var members = state.members
        var hosts = state.hosts
        var rules = state.rules
        var keys = state.domainKeys
        var parameters = state.parameters
        switch arguments {
        case .create, .join:
            throw DomainError(.invalidArgument, "\(arguments.commandName) does not change an existing state")
        case .modifyOperators(let upsert, let remove):
            let upserted = Set(upsert.map(\.id))
            for id in remove where !operators.contains(where: { $0.id == id }) || upserted.contains(id) {
                throw DomainError(.invalidArgument, "cannot remove operator \(id): not listed, or also upserted")
            }
            operators = (operators.filter { !upserted.contains($0.id) && !remove.contains($0.id) } + upsert)
                .sortedByUTF8(\.id)
        case .modifyMembers(let add, let remove):
            for id in remove where !members.contains(where: { $0.hsmID == id }) {
                throw DomainError(.invalidArgument, "cannot remove member \(id): not listed")
            }
            for addition in add {
                try checkNewMember(addition, "domain.modifyMembers")
                let identity = addition.identity.identity
                guard !members.contains(where: { $0.hsmID == identity.hsmID }) || remove.contains(identity.hsmID) else {
                    throw DomainError(.invalidArgument, "\(identity.hsmID) is already a member")
                }
            }
            members = (members.filter { !remove.contains($0.hsmID) } + add.map(member)).sortedByUTF8(\.hsmID)
            guard members.contains(where: { $0.hsmID == executor && $0.kind == .online }) else {
                throw DomainError(
                    .invalidArgument, "the executing HSM stays an online member (it leaves with domain.leave)")
            }
        case .modifyHosts(let add, let remove):
            for id in remove where !hosts.contains(where: { $0.id == id }) {
                throw DomainError(.invalidArgument, "cannot remove host \(id): not listed")
            }
            for host in add where hosts.contains(where: { $0.id == host.id }) && !remove.contains(host.id) {
                throw DomainError(.invalidArgument, "host \(host.id) is already listed")
            }
            hosts = (hosts.filter { !remove.contains($0.id) } + add).sortedByUTF8(\.id)
        case .modifyRules(let newRules):
            rules = newRules
        case .modifyParameters(let newParameters):
            parameters = newParameters
        case .rotateKeys:
            guard let newKey, !keys.contains(where: { $0.keyID == newKey.keyID }) else {
                throw DomainError(.invalidArgument, "rotateKeys needs a new domain key id")
            }
            keys = Array(([newKey] + keys).prefix(parameters.domainKeyRetention))
        case .leave(let hsmID):
            guard hsmID == executor else {
                throw DomainError(.invalidArgument, "domain.leave is executed only by the HSM it names")
            }
            guard members.contains(where: { $0.hsmID == hsmID }) else {
                throw DomainError(.invalidArgument, "\(hsmID) is not a member")
            }
            members = members.filter { $0.hsmID != hsmID }
        case .recover(let recover):
            // The domain restarts from its recovery members with the recovering HSM as its one online member.
            let addition = MemberAddition(identity: recover.member, kind: .online)
            try checkNewMember(addition, "domain.recover")
            let identity = recover.member.identity
            guard identity.hsmID == executor else {
                throw DomainError(.invalidArgument, "domain.recover is executed only by the HSM it names")
            }
            guard !members.contains(where: { $0.hsmID == identity.hsmID }) else {
                throw DomainError(.invalidArgument, "\(identity.hsmID) is already a member")
            }
            guard members.contains(where: { $0.kind == .recovery }) else {
                throw DomainError(.invalidArgument, "the domain has no recovery member")
            }
            members = (members.filter { $0.kind == .recovery } + [member(addition)]).sortedByUTF8(\.hsmID)
        }
        let next = DomainState(
            domainID: state.domainID, name: state.name, epoch: state.epoch + 1, previous: state.digest,
            operators: operators, members: members, hosts: hosts, rules: rules, domainKeys: keys, parameters: parameters
        )
        try DomainInvariants.check(next)
        return next
    }

    /// A new member must come from a verified, self-consistent, uninitialized identity (§5).
    static func checkNewMember(_ addition: MemberAddition, _ command: String) throws(DomainError) {
        let identity = addition.identity.identity
        guard addition.identity.isSelfSigned else {
            throw DomainError(.badSignature, "\(command): the identity of \(identity.hsmID) is not signed by its key")
        }
        guard identity.signingKey.fingerprint == identity.hsmID else {
            throw DomainError(.invalidArgument, "\(command): \(identity.hsmID) is not the hash of its signing key")
        }
        guard identity.state == .uninitialized else {
            throw DomainError(.invalidArgument, "\(command): \(identity.hsmID) is not uninitialized")
        }
    }

    private static func member(_ addition: MemberAddition) -> Member {
        let identity = addition.identity.identity
        return Member(
            hsmID: identity.hsmID, signingKey: identity.signingKey, agreementKey: identity.agreementKey,
            kind: addition.kind)
    }
}
