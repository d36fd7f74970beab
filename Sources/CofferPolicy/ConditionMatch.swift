import Foundation

/// How one request value compares with one policy value under each operator (IAM's condition
/// operators). A value that does not parse for a numeric, date, boolean or address operator matches
/// nothing.
enum ConditionMatch {
    static func matches(_ op: PolicyCondition.Operator, policy: String, request: String) -> Bool {
        switch op {
        case .stringEquals, .stringNotEquals: return policy == request
        case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase: return policy.lowercased() == request.lowercased()
        case .stringLike, .stringNotLike: return Wildcard.matches(policy, request)
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
            .numericGreaterThanEquals:
            guard let p = Double(policy), let r = Double(request) else { return false }
            return compare(op, r, p)
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan,
            .dateGreaterThanEquals:
            guard let p = date(policy), let r = date(request) else { return false }
            return compare(op, r, p)
        case .bool: return policy.lowercased() == request.lowercased()
        case .binaryEquals: return policy == request
        case .ipAddress, .notIpAddress: return IPRange(policy)?.contains(request) ?? false
        case .arnEquals, .arnLike, .arnNotEquals, .arnNotLike: return Wildcard.matchesARN(policy, request)
        case .null: return false
        }
    }

    /// `request OP policy` for the ordering operators (equality for the others).
    private static func compare(_ op: PolicyCondition.Operator, _ request: Double, _ policy: Double) -> Bool {
        switch op {
        case .numericLessThan, .dateLessThan: request < policy
        case .numericLessThanEquals, .dateLessThanEquals: request <= policy
        case .numericGreaterThan, .dateGreaterThan: request > policy
        case .numericGreaterThanEquals, .dateGreaterThanEquals: request >= policy
        default: request == policy
        }
    }

    /// Seconds since 1970 of a policy or request date (``PolicyTime``).
    static func date(_ text: String) -> Double? { PolicyTime.seconds(text) }
}

/// An IPv4 or IPv6 address range in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`; a bare address is
/// its own /32 or /128), for `IpAddress` and `NotIpAddress` over `aws:SourceIp`.
struct IPRange {
    let network: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPRange.bytes(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            prefix = bits
        }
        network = address
    }

    func contains(_ text: String) -> Bool {
        guard let address = IPRange.bytes(text), address.count == network.count else { return false }
        var remaining = prefix
        for (a, n) in zip(address, network) where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            guard a & mask == n & mask else { return false }
            remaining -= take
        }
        return true
    }

    /// The 4 or 16 bytes of a textual IPv4 or IPv6 address (inet_pton's grammar).
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
