/// Runs async jobs one at a time, in submission order. The store has one SQLite connection; a
/// transaction is several statements, and no other job's statement may run between them.
actor SerialJobs {
    private var tail: Task<Void, Never>?

    func run<T: Sendable>(_ job: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task {
            await previous?.value
            return try await job()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }
}
