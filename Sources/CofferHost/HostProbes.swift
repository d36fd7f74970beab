import CofferHSMClient
import CofferServer
import CofferStore
import Metrics
import Prometheus

/// The host's metrics (swift-metrics, exported in Prometheus's text format at `/metrics`) and its
/// readiness (`/ready`).
enum HostProbes {
    /// The process's registry; the first use bootstraps swift-metrics with it (once per process).
    static let registry: PrometheusCollectorRegistry = {
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
    static func probes(
        pool: HSMPool, store: any KeyStore, registry: PrometheusCollectorRegistry
    ) -> KMSHTTPServer.Probes {
        let readiness = Readiness(pool: pool, store: store)
        return KMSHTTPServer.Probes(
            notReady: { await readiness.check() }, metrics: { registry.emitToBuffer() })
    }

    private actor Readiness {
        let pool: HSMPool
        let store: any KeyStore
        private var last: (at: ContinuousClock.Instant, verdict: String?)?

        init(pool: HSMPool, store: any KeyStore) {
            self.pool = pool
            self.store = store
        }

        func check() async -> String? {
            if let last, ContinuousClock.now - last.at < .seconds(1) { return last.verdict }
            let verdict = await evaluate()
            last = (ContinuousClock.now, verdict)
            return verdict
        }

        private func evaluate() async -> String? {
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
