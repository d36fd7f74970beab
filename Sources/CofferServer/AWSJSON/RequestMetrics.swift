import Metrics
import NIOConcurrencyHelpers

/// The endpoint's request metrics: `coffer_requests_total{operation,code}` and
/// `coffer_request_duration_seconds{operation}`. The handles are made once per label set and kept (the
/// label sets are bounded: AWS's operation names or `other`, and AWS's error names), so a request costs a
/// dictionary lookup, not a metrics-factory registration.
final class RequestMetrics: Sendable {
    private struct Handles {
        var counters: [String: Counter] = [:]
        var timers: [String: Metrics.Timer] = [:]
    }
    private let handles = NIOLockedValueBox(Handles())

    /// Counts one request of `operation` that ended with `code` (`ok` or an AWS error name), and its time.
    func record(operation: String, code: String, duration: Duration) {
        let (counter, timer) = handles.withLockedValue { handles -> (Counter, Metrics.Timer) in
            let key = operation + "\u{0}" + code
            let counter =
                handles.counters[key]
                ?? Counter(label: "coffer_requests_total", dimensions: [("operation", operation), ("code", code)])
            handles.counters[key] = counter
            let timer =
                handles.timers[operation]
                ?? Metrics.Timer(label: "coffer_request_duration_seconds", dimensions: [("operation", operation)])
            handles.timers[operation] = timer
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: duration)
    }
}
