import CCofferSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PROTOCOL §10: no core dumps, memory locked.
public enum MemoryHygiene {
    /// What could be applied.
    public struct Report: Sendable {
        /// Core dumps are off (`RLIMIT_CORE = 0` and, on Linux, not dumpable).
        public let coreDumpsDisabled: Bool
        /// `mlockall` succeeded; when false, the reason.
        public let memoryLocked: Bool
        /// Why locking failed (for the warning), if it did.
        public let lockError: String?
    }

    /// Disables core dumps and locks current and future memory. Locking may be refused (RLIMIT_MEMLOCK,
    /// no CAP_IPC_LOCK): the caller logs the warning and goes on.
    public static func apply() -> Report {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if os(Linux)
        let coreOK = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 && coffer_disable_dumpable() == 0
        let locked = mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) == 0
        #else
        let coreOK = setrlimit(RLIMIT_CORE, &limit) == 0
        let locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0
        #endif
        return Report(
            coreDumpsDisabled: coreOK, memoryLocked: locked, lockError: locked ? nil : String(cString: strerror(errno)))
    }
}
