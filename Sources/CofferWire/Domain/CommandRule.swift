import SwiftASN1

/// `Requirement ::= SEQUENCE { role UTF8String, minimum INTEGER (1..64) }`.
public struct Requirement: DERMessage, Hashable {
    /// The role the signers must hold.
    public let role: String
    /// How many distinct signers with that role.
    public let minimum: Int

    /// Builds a requirement.
    public init(role: String, minimum: Int) {
        self.role = role
        self.minimum = minimum
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "Requirement")
        role = try r.name("role")
        minimum = try r.int("minimum", WireLimits.requirementMinimum)
        try r.end()
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(role)
            c.appendInteger(minimum)
        }
    }
}

/// `Rule ::= SEQUENCE SIZE (1..64) OF Requirement`, sorted by role (§4): satisfied when the signers
/// can fill every requirement with distinct signers.
public struct Rule: DERMessage, Hashable {
    /// Sorted by role, unique roles.
    public let requirements: [Requirement]

    /// Builds a rule; requirements are sorted by role here.
    public init(_ requirements: [Requirement]) {
        self.requirements = requirements.sortedByUTF8(\.role)
    }

    public init(node: ASN1Node) throws(WireError) {
        requirements = try DERReader.sequence(
            node, "Rule", maximum: WireLimits.ruleRequirements.upperBound, Requirement.init(node:))
        guard requirements.count >= WireLimits.ruleRequirements.lowerBound else {
            throw WireError(.emptyRule, "a Rule needs at least one Requirement")
        }
        try WireValidation.checkSortedUnique(requirements.map(\.role), "Rule (requirements by role)")
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence(of: requirements) { $0.append($1) }
    }
}

/// `CommandRule ::= SEQUENCE { command UTF8String, alternatives SEQUENCE SIZE (1..16) OF Rule }`.
public struct CommandRule: DERMessage, Hashable {
    /// A command name of §5.
    public let command: String
    /// At least one; the command is authorized when any one is satisfied.
    public let alternatives: [Rule]

    /// Builds a command rule.
    public init(command: String, alternatives: [Rule]) {
        self.command = command
        self.alternatives = alternatives
    }

    public init(node: ASN1Node) throws(WireError) {
        var r = try DERReader(node, "CommandRule")
        command = try r.name("command")
        alternatives = try r.sequence(
            "alternatives", maximum: WireLimits.ruleAlternatives.upperBound, Rule.init(node:))
        try r.end()
        guard alternatives.count >= WireLimits.ruleAlternatives.lowerBound else {
            throw WireError(.badSize, "CommandRule.alternatives: at least one Rule")
        }
    }

    public func serialize(into coder: inout DERWriter) {
        coder.appendSequence { c in
            c.appendUTF8(command)
            c.appendSequence(of: alternatives) { $0.append($1) }
        }
    }
}
