/// The caller as policies name it: its ARN, its account, and, for an assumed-role session
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`), the role's ARN, which is what policies name.
struct CallerIdentity {
    /// The caller's principal ARN.
    let arn: String
    /// The caller's account.
    let account: String
    /// The role ARN of an assumed-role session.
    let roleARN: String?
    /// `arn:aws:iam::ACCOUNT:root`.
    let rootARN: String

    init(_ arn: String, account: String) {
        self.arn = arn
        self.account = account
        rootARN = "arn:aws:iam::\(account):root"
        // Only an STS ARN can be a session; every other principal is itself.
        guard Self.isSTS(arn) else {
            roleARN = nil
            return
        }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        if parts.count == 6, parts[2] == "sts", parts[5].hasPrefix("assumed-role/") {
            let role = parts[5].dropFirst("assumed-role/".count).split(separator: "/").first.map(String.init)
            roleARN = role.map { "arn:\(parts[1]):iam::\(parts[4]):role/\($0)" }
        } else {
            roleARN = nil
        }
    }

    /// Whether the ARN's service (its third part) is `sts`, read byte by byte: this runs on every
    /// decision, and a string search costs more than the rest of one.
    static func isSTS(_ arn: String) -> Bool {
        let bytes = arn.utf8
        var colons = 0
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: ":") {
            colons += 1
            if colons == 2 {
                start = bytes.index(after: index)
            } else if colons == 3 {
                return bytes[start..<index].elementsEqual("sts".utf8)
            }
        }
        return false
    }

    /// Whether the caller is its account's root.
    var isRoot: Bool { arn == rootARN }

    /// Whether `name` (a principal in a policy or grant) is the caller itself.
    func isNamed(by name: String) -> Bool {
        if name == arn || name == roleARN { return true }
        return isRoot && (name == account || name == rootARN)
    }

    /// Whether `name` is the caller's account (its id or its root ARN).
    func isAccount(_ name: String) -> Bool { name == account || name == rootARN }

    /// The names of each level of the caller that AWS checks against a NotPrincipal: the account; then
    /// the user, or the role and the session.
    var levels: [Set<String>] {
        var levels: [Set<String>] = [[account, rootARN]]
        if let roleARN {
            levels.append([roleARN])
            levels.append([arn])
        } else if !isRoot {
            levels.append([arn])
        }
        return levels
    }
}

/// How a statement's principals cover the caller.
enum PrincipalMatch: Equatable {
    /// The statement names the caller (or everyone).
    case direct
    /// The statement names the caller's account: for an Allow, IAM policies decide.
    case account
    /// The statement does not apply to the caller.
    case none
}

extension PolicyStatement {
    /// How this statement's Principal or NotPrincipal covers `caller` (identity policy statements, which
    /// name no principal, cover their own principal directly).
    func matchesPrincipal(_ caller: CallerIdentity) -> PrincipalMatch {
        guard let principals else { return .direct }
        let covered: PrincipalMatch
        switch principals {
        case .anyone: covered = .direct
        case .listed(let aws, _):
            if aws.contains(where: caller.isNamed(by:)) {
                covered = .direct
            } else if aws.contains(where: caller.isAccount) {
                covered = .account
            } else {
                covered = .none
            }
        }
        guard notPrincipal else { return covered }
        // NotPrincipal (with Deny): AWS checks each level of the caller in turn — the account, then the
        // user, or the role and then the session — and the Deny applies at any level not named (the IAM
        // User Guide, NotPrincipal: "you must also specify the account ARN … otherwise the policy might
        // deny access to the entire account"). The caller is spared only when every level is named.
        guard case .listed(let aws, _) = principals else { return .none }
        let spared = caller.levels.allSatisfy { level in aws.contains { level.contains($0) } }
        return spared ? .none : .direct
    }

    /// Whether Action, Resource and Condition match `request` (the principal is matched apart).
    func matches(_ request: AuthorizationRequest) -> Bool {
        let actionMatched = lowercasedActions.contains { Wildcard.matches($0, request.lowercasedAction) }
        guard actionMatched != notAction else { return false }
        let resourceMatched = resources.contains { $0 == "*" || Wildcard.matches($0, request.resource) }
        guard resourceMatched != notResource else { return false }
        return conditions.allSatisfy { $0.holds(request.conditionKeys) }
    }
}

/// How policies name a caller.
public enum PolicyPrincipal {
    /// The ARN `aws:PrincipalArn` holds: an assumed-role session's role, any other principal itself.
    public static func policyARN(of principal: String) -> String {
        let parts = principal.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return CallerIdentity(principal, account: parts.count == 6 ? String(parts[4]) : "").roleARN ?? principal
    }
}
