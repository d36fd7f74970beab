import CofferHSMClient
import CofferServer
import CofferStore
import Metrics
import Prometheus

/// The host's metrics (swift-metrics, exported in Prometheus's text format at `/metrics`) and its
/// readiness (`/ready`).
public enum HostProbes {
    /// The process's registry; the first use bootstraps swift-metrics with it (once per process).
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests take from a fraction of a millisecond to seconds (an HSM failover, a slow store).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        // Series that only move on rare events are shown from the start, at zero.
        for label in [
            "coffer_hsm_sessions_negotiated_total", "coffer_hsm_session_renewals_total",
            "coffer_hsm_session_failures_total", "coffer_rewrap_passes_total",
        ] {
            Counter(label: label).increment(by: 0)
        }
        for result in ["rewrapped", "failed", "changed_meanwhile"] {
            Counter(label: "coffer_rewrap_tokens_total", dimensions: [("result", result)]).increment(by: 0)
        }
        return registry
    }()

    /// The probes of a host over `pool` and `store`: ready when some HSM answers as an online member,
    /// a session is established (or can be), and the store answers. A probe's verdict is kept for a
    /// second, so that probes from many load balancers cost one check.
    public static func probes(
        pool: HSMPool, store: any KeyStore, registry: PrometheusCollectorRegistry
    ) -> KMSHTTPServer.Probes {
        let readiness = Readiness(pool: pool, store: store)
        return KMSHTTPServer.Probes(
            notReady: { await readiness.check() }, metrics: { registry.emitToBuffer() })
    }

    /// One readiness check at a time, its verdict kept for ``verdictLifetime``: probes that arrive
    /// meanwhile wait for the check in flight instead of starting their own.
    private actor Readiness {
        /// How long a verdict answers probes.
        static let verdictLifetime: Duration = .seconds(1)

        let pool: HSMPool
        let store: any KeyStore
        private var last: (at: ContinuousClock.Instant, verdict: String?)?
        private var inFlight: Task<String?, Never>?

        init(pool: HSMPool, store: any KeyStore) {
            self.pool = pool
            self.store = store
        }

        func check() async -> String? {
            if let last, ContinuousClock.now - last.at < Self.verdictLifetime { return last.verdict }
            if let inFlight { return await inFlight.value }
            let pool = self.pool
            let store = self.store
            let task = Task { await Self.evaluate(pool: pool, store: store) }
            inFlight = task
            let verdict = await task.value
            last = (ContinuousClock.now, verdict)
            inFlight = nil
            return verdict
        }

        private static func evaluate(pool: HSMPool, store: any KeyStore) async -> String? {
            guard await pool.healthCheck().contains(where: \.healthy) else {
                return "no HSM answers as an online member of the domain"
            }
            guard await pool.hasSession() else { return "no HSM accepts a session" }
            do {
                try await store.ping()
            } catch {
                return "the store does not answer"
            }
            return nil
        }
    }
}
