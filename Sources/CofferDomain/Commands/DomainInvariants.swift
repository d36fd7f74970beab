import CofferCrypto
import CofferWire

/// The invariants of every domain state (PROTOCOL §4), checked after every transition. A command that
/// would break one is refused with `invalidArgument`.
public enum DomainInvariants {
    /// Throws `invalidArgument` naming the first invariant `state` breaks.
    public static func check(_ state: DomainState) throws(DomainError) {
        func fail(_ why: String) -> DomainError { DomainError(.invalidArgument, why) }
        guard !state.operators.isEmpty else { throw fail("a domain needs at least one operator") }
        guard state.members.contains(where: { $0.kind == .online }) else {
            throw fail("a domain needs at least one online member")
        }
        guard Set(state.operators.map(\.signingKey)).count == state.operators.count else {
            throw fail("two operators share a signing key (a signer is identified by its key)")
        }
        guard Set(state.hosts.map(\.signingKey)).count == state.hosts.count else {
            throw fail("two hosts share a signing key")
        }
        for member in state.members where member.signingKey.fingerprint != member.hsmID {
            throw fail("member \(member.hsmID) is not the hash of its signing key")
        }
        for rule in state.rules where !DomainCommand.ruled.contains(rule.command) {
            throw fail(
                rule.command == DomainCommand.create
                    ? "domain.create has no rule: every listed operator signs it"
                    : "\(rule.command) is not a command of PROTOCOL §5")
        }
        guard state.rules.contains(where: { $0.command == DomainCommand.modifyRules }) else {
            throw fail("a rule for domain.modifyRules must exist, or the rules could never change again")
        }
        for rule in state.rules where !Quorum.isSatisfiable(rule, by: state.operators) {
            throw fail("no alternative of the rule for \(rule.command) can be met by the operators, even all together")
        }
        guard (1...WireLimits.listMaximum).contains(state.domainKeys.count) else {
            throw fail("the domain must hold 1 … 1024 domain keys")
        }
    }
}
