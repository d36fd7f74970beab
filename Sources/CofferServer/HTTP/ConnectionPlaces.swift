import NIOConcurrencyHelpers
import NIOCore

/// The endpoint's connection places: a ``ConnectionRoster`` shared by every connection, whichever event
/// loop it runs on, and the channels to close when one is displaced.
final class ConnectionPlaces: Sendable {
    private let state: NIOLockedValueBox<(roster: ConnectionRoster, channels: [UInt64: any Channel])>

    /// Places for `maximumConnections` connections.
    init(maximumConnections: Int) {
        state = NIOLockedValueBox((ConnectionRoster(maximumConnections: maximumConnections), [:]))
    }

    /// Connections held, and of them waiting.
    var counts: (all: Int, waiting: Int) { state.withLockedValue { $0.roster.counts } }

    /// Admits `channel`, closing the connection it displaces; nil when it is refused.
    func admit(_ channel: any Channel) -> UInt64? {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let now = NIODeadline.now().uptimeNanoseconds
        let (id, displaced): (UInt64?, (any Channel)?) = state.withLockedValue { state in
            guard case .admitted(let id, let displacing) = state.roster.admit(address: address, now: now) else {
                return (nil, nil)
            }
            state.channels[id] = channel
            return (id, displacing.flatMap { state.channels.removeValue(forKey: $0) })
        }
        displaced?.close(promise: nil)
        return id
    }

    /// Marks `id` busy; false when it was displaced meanwhile.
    func busy(_ id: UInt64) -> Bool { state.withLockedValue { $0.roster.busy(id) } }

    func waiting(_ id: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        state.withLockedValue { $0.roster.waiting(id, now: now) }
    }

    func remove(_ id: UInt64) {
        state.withLockedValue { state in
            state.roster.remove(id)
            state.channels[id] = nil
        }
    }
}
