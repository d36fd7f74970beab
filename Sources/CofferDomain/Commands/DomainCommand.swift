/// The command names of PROTOCOL §5.
public enum DomainCommand {
    /// `domain.create`: genesis; signed by every listed operator; never has a rule.
    public static let create = "domain.create"
    /// `domain.modifyOperators`.
    public static let modifyOperators = "domain.modifyOperators"
    /// `domain.modifyMembers`.
    public static let modifyMembers = "domain.modifyMembers"
    /// `domain.modifyHosts`.
    public static let modifyHosts = "domain.modifyHosts"
    /// `domain.modifyRules`: a rule for it must always exist.
    public static let modifyRules = "domain.modifyRules"
    /// `domain.modifyParameters`.
    public static let modifyParameters = "domain.modifyParameters"
    /// `domain.rotateKeys`.
    public static let rotateKeys = "domain.rotateKeys"
    /// `domain.join`.
    public static let join = "domain.join"
    /// `domain.leave`.
    public static let leave = "domain.leave"
    /// `domain.recover` (docs/protocol.md, "Recovery"): an uninitialized HSM rebuilds a recovery member's key.
    public static let recover = "domain.recover"

    /// The commands a `CommandRule` may name (every §5 command except `domain.create`).
    public static let ruled: Set<String> = [
        modifyOperators, modifyMembers, modifyHosts, modifyRules, modifyParameters, rotateKeys, join, leave, recover,
    ]
}
