import CofferJSON

/// One condition of a statement: an operator, a condition key and the policy's values, e.g.
/// `"ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["tenant*"]}`. Every condition of a
/// statement must hold; for one condition, IAM's rules (the IAM User Guide, "Condition element" and
/// "Single-valued vs. multivalued context keys"):
/// - a positive operator holds when the request's value matches any of the policy's values; a negated
///   one (`StringNotEquals`, `ArnNotLike`, …) when it matches none;
/// - a key absent from the request makes a positive operator false and a negated operator true, unless
///   the operator ends in `IfExists` (then true) or is `Null` (which tests presence);
/// - `ForAnyValue:` holds when some request value matches (false for an absent key); `ForAllValues:`
///   when every request value matches (true for an absent or empty key).
public struct PolicyCondition: Sendable, Equatable {
    /// The operator families IAM defines.
    public enum Operator: String, Sendable, Equatable, CaseIterable {
        case stringEquals = "StringEquals"
        case stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase"
        case stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike"
        case stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals"
        case numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan"
        case numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan"
        case numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals"
        case dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan"
        case dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan"
        case dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool"
        case binaryEquals = "BinaryEquals"
        case ipAddress = "IpAddress"
        case notIpAddress = "NotIpAddress"
        case arnEquals = "ArnEquals"
        case arnLike = "ArnLike"
        case arnNotEquals = "ArnNotEquals"
        case arnNotLike = "ArnNotLike"
        case null = "Null"

        /// Whether the operator holds when the value matches none of the policy's values.
        var isNegated: Bool {
            switch self {
            case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
                .notIpAddress, .arnNotEquals, .arnNotLike:
                true
            case .stringEquals, .stringEqualsIgnoreCase, .stringLike, .numericEquals, .numericLessThan,
                .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals, .dateEquals, .dateLessThan,
                .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals, .bool, .binaryEquals, .ipAddress,
                .arnEquals, .arnLike, .null:
                false
            }
        }
    }

    /// How a multi-valued key is compared.
    public enum SetQualifier: String, Sendable, Equatable {
        /// `ForAnyValue:`.
        case forAnyValue = "ForAnyValue"
        /// `ForAllValues:`.
        case forAllValues = "ForAllValues"
    }

    /// The operator.
    public let op: Operator
    /// `ForAnyValue:` or `ForAllValues:`, if given.
    public let qualifier: SetQualifier?
    /// Whether the operator ends in `IfExists`.
    public let ifExists: Bool
    /// The condition key, lower-cased (IAM's key names are case-insensitive).
    public let key: String
    /// The policy's values, as text (`true`, `42`, an ISO 8601 date, …).
    public let values: [String]

    /// The conditions of a statement's `Condition` object.
    static func parse(_ value: JSONValue, _ place: String) throws(PolicyError) -> [PolicyCondition] {
        guard case .object(let operators) = value else {
            throw PolicyError(.invalid, "\(place) Condition is not an object")
        }
        var conditions: [PolicyCondition] = []
        for block in operators.members {
            var name = Substring(block.name)
            var qualifier: SetQualifier?
            // At most one qualifier: a second is left in the name, which is then no operator.
            for candidate in [SetQualifier.forAnyValue, .forAllValues] where name.hasPrefix(candidate.rawValue + ":") {
                qualifier = candidate
                name = name.dropFirst(candidate.rawValue.count + 1)
                break
            }
            let ifExists = name.hasSuffix("IfExists")
            if ifExists { name = name.dropLast("IfExists".count) }
            guard let op = Operator(rawValue: String(name)), !(ifExists && op == .null) else {
                throw PolicyError(.invalid, "\(place) has an unknown condition operator \(block.name)")
            }
            guard case .object(let keys) = block.value, !keys.members.isEmpty else {
                throw PolicyError(.invalid, "\(place) condition \(block.name) is not an object of condition keys")
            }
            for entry in keys.members {
                let values = try Self.values(entry.value, "\(place) condition \(block.name) \(entry.name)")
                // A value the operator cannot read would match nothing: a Deny with it would never apply.
                if let bad = values.first(where: { !Self.readable($0, by: op) }) {
                    throw PolicyError(
                        .invalid,
                        "\(place) condition \(block.name) \(entry.name): \(bad) is not a value \(op.rawValue) reads")
                }
                conditions.append(
                    PolicyCondition(
                        op: op, qualifier: qualifier, ifExists: ifExists, key: entry.name.lowercased(), values: values))
            }
        }
        return conditions
    }

    /// Whether `value` parses for `op` (numbers, dates, booleans, addresses, ARN patterns).
    private static func readable(_ value: String, by op: Operator) -> Bool {
        switch op {
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
            .numericGreaterThanEquals:
            return Double(value) != nil
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            return PolicyTime.seconds(value) != nil
        case .bool, .null: return ["true", "false"].contains(value.lowercased())
        case .ipAddress, .notIpAddress: return IPRange(value) != nil
        case .arnEquals, .arnLike, .arnNotEquals, .arnNotLike:
            return value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).count == 6
        case .stringEquals, .stringNotEquals, .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase, .stringLike,
            .stringNotLike, .binaryEquals:
            return true
        }
    }

    private static func values(_ value: JSONValue, _ place: String) throws(PolicyError) -> [String] {
        func scalar(_ value: JSONValue) throws(PolicyError) -> String {
            switch value {
            case .string(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .number(let literal): return literal
            default: throw PolicyError(.invalid, "\(place) holds a value that is not a string, number or boolean")
            }
        }
        if case .array(let list) = value {
            guard !list.isEmpty else { throw PolicyError(.invalid, "\(place) is an empty list") }
            guard list.count <= PolicyLimits.listValues else {
                throw PolicyError(.tooLarge, "\(place) has more than \(PolicyLimits.listValues) values")
            }
            var texts: [String] = []
            for item in list { texts.append(try scalar(item)) }
            return texts
        }
        return [try scalar(value)]
    }

    // MARK: Evaluation

    /// Whether the condition holds for a request whose condition keys are `keys` (lower-cased names).
    func holds(_ keys: [String: [String]]) -> Bool {
        let requestValues = keys[key]
        if op == .null {
            // `Null: true` holds when the key is absent; `false` when it is present.
            let absent = requestValues?.isEmpty ?? true
            return values.contains { ($0.lowercased() == "true") == absent }
        }
        guard let requestValues, !requestValues.isEmpty else {
            switch qualifier {
            case .forAllValues?: return true
            case .forAnyValue?: return ifExists
            case nil: return ifExists || op.isNegated
            }
        }
        switch qualifier {
        case .forAllValues?:
            return requestValues.allSatisfy { single($0) }
        case .forAnyValue?:
            return requestValues.contains { single($0) }
        case nil:
            // Without a qualifier a key with several values holds for a positive operator when any value
            // matches, and for a negated one when none does.
            return op.isNegated ? requestValues.allSatisfy { single($0) } : requestValues.contains { single($0) }
        }
    }

    /// One request value against the policy's values: any matches (positive), none matches (negated).
    private func single(_ value: String) -> Bool {
        let matched = values.contains { ConditionMatch.matches(op, policy: $0, request: value) }
        return op.isNegated ? !matched : matched
    }
}
