import CofferCrypto
import CofferWire
import Logging
import Metrics

/// The re-wrap job of a service host: keeps every stored token under the domain's active key, well
/// before a rotation can drop the key that sealed it. A pass runs when the active key changed since the
/// last complete pass, and otherwise every `interval` seconds (tokens another host wrote from an older
/// state). Passes are idempotent and conditional (``KMSService/rewrapTokens(to:retained:batch:onFailure:)``),
/// so a host that restarts mid-pass, or two hosts at once, lose nothing and redo little. A pass may miss
/// a token written while it runs (on PostgreSQL a backing key's row number can commit behind the pass's
/// cursor): a token written under a retained key is moved by the next pass, well before its key is
/// dropped, and `coffer host status` shows any that remain.
public actor RewrapJob {
    /// The longest time between passes when the active key does not change.
    public static let defaultInterval: Int64 = 3600

    private let kms: KMSService
    private let interval: Int64
    private let logger: Logger
    private var completedUnder: [UInt8]?
    private var completedAt: Int64 = .min
    /// The last pass that ran to its end.
    public private(set) var lastPass: RewrapPass?
    /// Whether a pass is running now.
    public private(set) var running = false

    /// A job over `kms`.
    public init(kms: KMSService, interval: Int64 = RewrapJob.defaultInterval, logger: Logger) {
        self.kms = kms
        self.interval = interval
        self.logger = logger
    }

    /// Runs a pass if one is due under `state` at `now`; the pass, or nil when none was due.
    @discardableResult
    public func runIfDue(state: DomainState, now: Int64) async throws(KMSError) -> RewrapPass? {
        guard let active = state.activeKey?.keyID, !running else { return nil }
        guard completedUnder != active || now - completedAt >= interval else { return nil }
        running = true
        defer { running = false }
        let logger = self.logger
        let pass = try await kms.rewrapTokens(
            to: active, retained: state.domainKeys.map(\.keyID),
            onFailure: { place, why in
                logger.error("cannot re-wrap a stored token", metadata: ["place": "\(place)", "why": "\(why)"])
            })
        lastPass = pass
        for (result, count) in [
            ("rewrapped", pass.rewrapped), ("failed", pass.failed), ("changed_meanwhile", pass.changedMeanwhile),
        ] where count > 0 {
            Counter(label: "coffer_rewrap_tokens_total", dimensions: [("result", result)]).increment(by: count)
        }
        Counter(label: "coffer_rewrap_passes_total").increment()
        Gauge(label: "coffer_rewrap_last_pass_timestamp_seconds").record(now)
        // Tokens not under the active key after the pass: what the job (or an operator) still owes.
        Gauge(label: "coffer_rewrap_pending_tokens").record(
            pass.census.total - (pass.census.byDomainKey[pass.activeDomainKey] ?? 0))
        Gauge(label: "coffer_stored_tokens").record(pass.census.total)
        if !pass.stoppedBehind {
            completedUnder = active
            completedAt = now
        }
        if pass.rewrapped > 0 || pass.failed > 0 || pass.stoppedBehind {
            logger.notice(
                "re-wrap pass",
                metadata: [
                    "activeDomainKey": "\(pass.activeDomainKey)", "examined": "\(pass.examined)",
                    "rewrapped": "\(pass.rewrapped)", "failed": "\(pass.failed)",
                    "changedMeanwhile": "\(pass.changedMeanwhile)", "stoppedBehind": "\(pass.stoppedBehind)",
                ])
        }
        return pass
    }
}
