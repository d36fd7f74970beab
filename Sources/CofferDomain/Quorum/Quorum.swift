import CofferWire

/// Quorum semantics of PROTOCOL §4.
///
/// A `Rule` is satisfied when the distinct signers can be assigned to its slots — `minimum` slots per
/// requirement, each needing a signer holding the requirement's role — with **no signer in two slots**.
/// That is a bipartite matching (slots ↔ signers), found here with augmenting paths (Kuhn's algorithm),
/// not by filling slots greedily: a greedy fill fails when a dual-role signer takes the slot another
/// signer could have filled. Sets are small (≤ 64 approvals, ≤ 64 × 64 slots).
public enum Quorum {
    /// One signer: an operator id and its roles.
    public struct Signer: Hashable, Sendable {
        /// The operator's id.
        public let id: String
        /// The operator's roles.
        public let roles: Set<String>

        /// Builds a signer.
        public init(id: String, roles: some Sequence<String>) {
            self.id = id
            self.roles = Set(roles)
        }
    }

    /// A satisfied rule: which alternative, and one signer per slot in requirement order.
    public struct Verdict: Hashable, Sendable {
        /// The index of the first satisfied alternative.
        public let alternative: Int
        /// Signer ids, slot by slot in requirement order.
        public let assignment: [String]
    }

    /// The first satisfied alternative, or nil. Signers are deduplicated by id first (a signer counts
    /// once however many approvals it sent).
    public static func evaluate(_ alternatives: [Rule], signers: [Signer]) -> Verdict? {
        var seen: Set<String> = []
        let distinct = signers.filter { seen.insert($0.id).inserted }
        guard !distinct.isEmpty else { return nil }
        for (index, rule) in alternatives.enumerated() {
            if let assignment = match(rule, distinct) { return Verdict(alternative: index, assignment: assignment) }
        }
        return nil
    }

    /// A perfect assignment of `rule`'s slots to distinct signers, or nil.
    public static func match(_ rule: Rule, _ signers: [Signer]) -> [String]? {
        let slots = rule.requirements.flatMap { Array(repeating: $0.role, count: $0.minimum) }
        guard slots.count <= signers.count else { return nil }
        var signerOfSlot = [Int?](repeating: nil, count: slots.count)
        var slotOfSigner = [Int?](repeating: nil, count: signers.count)

        func augment(_ slot: Int, _ visited: inout [Bool]) -> Bool {
            for signer in signers.indices where !visited[signer] && signers[signer].roles.contains(slots[slot]) {
                visited[signer] = true
                if slotOfSigner[signer] == nil || augment(slotOfSigner[signer] ?? 0, &visited) {
                    slotOfSigner[signer] = slot
                    signerOfSlot[slot] = signer
                    return true
                }
            }
            return false
        }

        for slot in slots.indices {
            var visited = [Bool](repeating: false, count: signers.count)
            guard augment(slot, &visited) else { return nil }
        }
        return signerOfSlot.map { signers[$0 ?? 0].id }
    }

    /// Whether some alternative of `rule` could be met if every operator in `operators` signed (§4 invariant).
    public static func isSatisfiable(_ rule: CommandRule, by operators: [Operator]) -> Bool {
        evaluate(rule.alternatives, signers: operators.map { Signer(id: $0.id, roles: $0.roles) }) != nil
    }
}
