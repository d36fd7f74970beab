import CofferCrypto
import CofferDomain
import CofferTestSupport
import CofferWire
import Foundation
import Testing

/// Quorum semantics (PROTOCOL §4): protocol.json's 13 cases, greedy-vs-matching cases both ways, and a
/// property test against a brute-force reference.
@Suite struct QuorumTests {
    private func rule(_ pairs: [[Any]]) throws -> Rule {
        Rule(try pairs.map { Requirement(role: try #require($0[0] as? String), minimum: try #require($0[1] as? Int)) })
    }

    @Test func verdictsMatchTheProtocolVectors() throws {
        let section = try VectorFile.load("protocol", from: .module).object("quorum")
        var ran = 0
        var greedyWrong = 0
        for test in try section.objects("tests") {
            let id = try test.int("tcId")
            let roles = try #require(test["operators"] as? [String: [String]])
            let alternatives = try (try #require(test["alternatives"] as? [[[Any]]])).map(rule)
            let approvals = try #require(test["approvals"] as? [String])
            let signers = approvals.map { Quorum.Signer(id: $0, roles: roles[$0] ?? []) }
            let verdict = Quorum.evaluate(alternatives, signers: signers)
            #expect((verdict != nil) == (test["satisfied"] as? Bool), "tcId \(id)")
            #expect(verdict?.alternative == test["satisfiedAlternative"] as? Int, "tcId \(id)")
            if let verdict {
                // Any valid assignment will do: distinct signers, each holding its slot's role.
                let slots = alternatives[verdict.alternative].requirements.flatMap {
                    Array(repeating: $0.role, count: $0.minimum)
                }
                #expect(Set(verdict.assignment).count == verdict.assignment.count, "tcId \(id)")
                for (slot, signer) in zip(slots, verdict.assignment) { #expect(roles[signer]?.contains(slot) == true) }
            }
            if (test["greedyWouldSay"] as? Bool) != (test["satisfied"] as? Bool) {
                #expect(Self.greedy(alternatives, signers) != (verdict != nil), "tcId \(id): greedy must differ here")
                greedyWrong += 1
            }
            ran += 1
        }
        print("quorum: ran \(ran) cases, \(greedyWrong) where a greedy fill is wrong")
        #expect(ran == 13 && greedyWrong >= 3)
    }

    @Test func matchingSucceedsWhereGreedyFails() {
        // amy (admin, auditor) sorts first; greedy gives her the admin slot and finds no auditor.
        let signers = [
            Quorum.Signer(id: "amy", roles: ["admin", "auditor"]), Quorum.Signer(id: "bob", roles: ["admin"]),
        ]
        let rule = Rule([Requirement(role: "admin", minimum: 1), Requirement(role: "auditor", minimum: 1)])
        #expect(!Self.greedy([rule], signers))
        #expect(Quorum.evaluate([rule], signers: signers)?.assignment == ["bob", "amy"])
    }

    @Test func matchingRefusesWhereGreedyWouldAlsoBeRefusedAndWhereOneSignerWouldFillTwoSlots() {
        let dual = [Quorum.Signer(id: "amy", roles: ["admin", "auditor"])]
        let rule = Rule([Requirement(role: "admin", minimum: 1), Requirement(role: "auditor", minimum: 1)])
        #expect(Quorum.evaluate([rule], signers: dual) == nil)
        // A signer counted once however many approvals it sent.
        #expect(Quorum.evaluate([Rule([Requirement(role: "admin", minimum: 2)])], signers: dual + dual) == nil)
        #expect(Quorum.evaluate([rule], signers: []) == nil)
    }

    @Test func verdictEqualsBruteForceForRandomOperatorsAndRules() {
        var generator = SystemRandomNumberGenerator()
        let roleNames = ["admin", "auditor", "ops", "security"]
        var satisfied = 0
        for _ in 0..<3000 {
            let signerCount = Int.random(in: 0...6, using: &generator)
            let signers = (0..<signerCount).map { index in
                Quorum.Signer(id: "op\(index)", roles: roleNames.filter { _ in Bool.random(using: &generator) })
            }
            let alternatives = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                Rule(
                    roleNames.shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator)).map {
                        Requirement(role: $0, minimum: Int.random(in: 1...3, using: &generator))
                    })
            }
            let verdict = Quorum.evaluate(alternatives, signers: signers)
            let reference = alternatives.firstIndex { Self.bruteForce($0, signers) }
            #expect(verdict?.alternative == reference, "\(signers) \(alternatives)")
            if verdict != nil { satisfied += 1 }
        }
        #expect(satisfied > 100)
    }

    /// The reference: try every injective assignment of slots to signers.
    static func bruteForce(_ rule: Rule, _ signers: [Quorum.Signer]) -> Bool {
        let slots = rule.requirements.flatMap { Array(repeating: $0.role, count: $0.minimum) }
        func assign(_ slot: Int, _ used: Set<Int>) -> Bool {
            if slot == slots.count { return true }
            for index in signers.indices where !used.contains(index) && signers[index].roles.contains(slots[slot]) {
                if assign(slot + 1, used.union([index])) { return true }
            }
            return false
        }
        return assign(0, [])
    }

    /// What a naive implementation does: fill slots in order with the first free signer (sorted by id).
    static func greedy(_ alternatives: [Rule], _ signers: [Quorum.Signer]) -> Bool {
        let sorted = signers.sorted { $0.id < $1.id }
        return alternatives.contains { rule in
            var used: Set<String> = []
            for requirement in rule.requirements {
                for _ in 0..<requirement.minimum {
                    guard
                        let signer = sorted.first(where: {
                            !used.contains($0.id) && $0.roles.contains(requirement.role)
                        })
                    else { return false }
                    used.insert(signer.id)
                }
            }
            return true
        }
    }
}
