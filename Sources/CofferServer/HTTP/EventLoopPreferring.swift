import ServiceLifecycle

/// Runs `wrapped` (the HTTP application) with ``EventLoopTaskExecutor`` as its task executor preference,
/// which every connection's and request's child task inherits.
struct EventLoopPreferring<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let executor: EventLoopTaskExecutor

    func run() async throws {
        try await withTaskExecutorPreference(executor) { try await wrapped.run() }
    }
}
