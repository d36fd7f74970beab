import ArgumentParser
import CofferHost

/// The upkeep options of `coffer host` and `coffer dev`: how often the host looks after its HSMs and
/// store, and how often it rotates the domain keys when the domain's rules let it.
struct UpkeepOptions: ParsableArguments {
    @Option(
        help: """
            Seconds between the host's upkeep rounds: HSM health checks, adopting a newer domain state from \
            its HSMs, the re-wrap job, the scheduled domain-key rotation, scheduled key rotations and deletions.
            """)
    var upkeepInterval: Int = HostConfiguration.defaultUpkeepInterval
    @Option(
        help: """
            Seconds between scheduled domain-key rotations, done by this host when the domain's rules \
            pre-authorize it (an operator holding this host's key meets the domain.rotateKeys rule alone; \
            docs/operators.md) and never while a key it would drop still seals a stored token; 0 turns them off.
            """)
    var domainKeyRotationInterval: Int64 = RotationSchedule.defaultInterval

    func validate() throws {
        guard (1...3600).contains(upkeepInterval) else { throw ValidationError("--upkeep-interval is 1 … 3600") }
        guard domainKeyRotationInterval >= 0 else {
            throw ValidationError("--domain-key-rotation-interval is 0 (off) or more seconds")
        }
    }
}
