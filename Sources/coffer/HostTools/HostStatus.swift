import ArgumentParser
import CofferCrypto
import CofferHost
import CofferKMS
import CofferStore
import CofferWire
import Foundation

/// `coffer host status`: what a host's store holds of the domain, and how many stored tokens each
/// retained domain key still seals (the re-wrap job's backlog; docs/deployment.md, "Domain-key rotation
/// and the re-wrap job").
struct HostStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the domain state a store holds and how many stored tokens each domain key seals.",
        discussion: """
            Reads the store (it may be in use by running hosts): the newest domain state of its chain, the \
            retained domain keys, active first, and for each the stored tokens (backing keys and access keys' \
            secrets) it seals. The hosts' re-wrap job moves every token to the active key; a rotation drops \
            the oldest key once the state holds domainKeyRetention keys, and every token that key still \
            seals is lost with it, so rotate only when `safeToRotate` is true. Tokens under keys no longer \
            retained are already lost. Exit status 1 when any token is.
            """)

    @OptionGroup var location: AuditCommand.Location
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let store = try await location.open()
        let chain = try await store.domainTokens()
        let census = try await TokenCensus.take(of: store)
        await store.close()
        guard let newest = chain.last else { throw CLIError("the store holds no domain token") }
        let state = try DomainToken(derEncoded: newest.der).state
        let report = Report(state: state, census: census)
        if json {
            try JSONOutput.print(report.json)
        } else {
            for line in report.lines { print(line) }
        }
        if report.lost > 0 { throw ExitCode(1) }
    }

    /// What the command prints, computed from the state and the census.
    struct Report {
        let state: DomainState
        let census: TokenCensus

        var retained: [String] { state.domainKeys.map { Hex.encode($0.keyID) } }
        /// The key the next rotation drops (the state already holds `domainKeyRetention` keys).
        var droppedNext: String? {
            state.domainKeys.count >= state.parameters.domainKeyRetention ? retained.last : nil
        }
        /// Tokens under a key the state no longer holds, and damaged rows.
        var lost: Int {
            census.byDomainKey.filter { !retained.contains($0.key) }.values.reduce(census.unreadable, +)
        }
        /// Tokens not yet under the active key.
        var pending: Int { retained.dropFirst().map { census.byDomainKey[$0] ?? 0 }.reduce(0, +) }
        var safeToRotate: Bool { droppedNext.map { (census.byDomainKey[$0] ?? 0) == 0 } ?? true }

        var lines: [String] {
            var out = [
                "domain \(Hex.encode(state.domainID)) \"\(state.name)\" at epoch \(state.epoch) (the store's chain)",
                "domain keys (domainKeyRetention \(state.parameters.domainKeyRetention)), active first:",
            ]
            for (index, key) in state.domainKeys.enumerated() {
                let id = retained[index]
                let role = index == 0 ? "active  " : id == droppedNext ? "oldest  " : "retained"
                out.append(
                    "  \(id)  \(role)  created \(key.created)  \(census.byDomainKey[id] ?? 0) stored tokens")
            }
            out.append("stored tokens: \(census.total); under an older retained key, to re-wrap: \(pending)")
            if lost > 0 { out.append("LOST: \(lost) stored tokens are under no retained domain key or damaged") }
            if let droppedNext, !safeToRotate {
                out.append(
                    "not safe to rotate: the next rotation drops \(droppedNext), which still seals "
                        + "\(census.byDomainKey[droppedNext] ?? 0) stored tokens; wait for the hosts' re-wrap job")
            } else {
                out.append("safe to rotate: the next rotation drops no key that seals a stored token")
            }
            return out
        }

        var json: [String: Any] {
            [
                "domainID": Hex.encode(state.domainID), "epoch": state.epoch,
                "domainKeyRetention": state.parameters.domainKeyRetention,
                "domainKeys": state.domainKeys.enumerated().map { index, key in
                    [
                        "keyID": retained[index], "active": index == 0, "created": "\(key.created)",
                        "storedTokens": census.byDomainKey[retained[index]] ?? 0,
                    ] as [String: Any]
                },
                "storedTokens": census.total, "pendingRewrap": pending, "lostTokens": lost,
                "droppedByNextRotation": droppedNext ?? NSNull(), "safeToRotate": safeToRotate,
            ]
        }
    }
}
