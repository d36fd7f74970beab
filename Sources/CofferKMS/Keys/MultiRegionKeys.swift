import CofferStore
import CofferWire

/// Multi-Region keys (AWS's `mrk-` keys): one key id in several regions of one account, sharing key
/// material, spec, usage, origin and rotation; each region's key has its own state, policy, aliases,
/// tags and description. The store keeps the shared properties in step (``KeyStore/rotate(_:newBackingKey:)``).
extension KMSService {
    /// The keys related to a multi-Region `record` (itself among them), by region; empty for a
    /// single-Region key.
    func related(_ record: KeyRecord) async throws(KMSError) -> [KeyRecord] {
        guard record.isMultiRegion else { return [] }
        return try await storeCall { () throws(StoreError) in
            try await store.relatedKeys(account: record.scope.account, id: record.id)
        }
    }

    /// `KeyMetadata` with a multi-Region key's configuration read from the store.
    func metadata(of record: KeyRecord) async throws(KMSError) -> KeyMetadata {
        Self.metadata(record, related: try await related(record))
    }

    /// `MultiRegionConfiguration`: the primary key, and every replica (the described key among them when
    /// it is one), as AWS lists them.
    static func multiRegionConfiguration(_ record: KeyRecord, _ related: [KeyRecord]) -> MultiRegionConfiguration? {
        guard let primaryRegion = record.primaryRegion else { return nil }
        let all = related.contains { $0.scope == record.scope } ? related : (related + [record])
        func entry(_ key: KeyRecord) -> MultiRegionKey {
            MultiRegionKey(arn: keyARN(key.id, in: key.scope), region: key.scope.region)
        }
        let primary = KeyScope(account: record.scope.account, region: primaryRegion)
        return MultiRegionConfiguration(
            multiRegionKeyType: record.isReplica ? .replica : .primary,
            primaryKey: MultiRegionKey(arn: keyARN(record.id, in: primary), region: primaryRegion),
            replicaKeys: all.filter { $0.scope.region != primaryRegion }.sorted { $0.scope.region < $1.scope.region }
                .map(entry))
    }

    /// A primary key in PendingReplicaDeletion whose replicas are all gone starts its deletion window
    /// (PendingDeletion); returns the updated key, or nil while replicas remain. One conditional update,
    /// so a concurrent CancelKeyDeletion or ReplicateKey is never overwritten.
    func startDeletionWindow(_ record: KeyRecord) async throws(KMSError) -> KeyRecord? {
        guard record.state == .pendingReplicaDeletion else { return nil }
        let now = clock()
        return try await housekeeping { () throws(StoreError) in
            try await store.startDeletionWindow(record.scope, id: record.id, now: now)
        }
    }

    /// Creates the replica of `primary` in `region`, from the primary as the store has it in the same
    /// transaction (see ``KeyStore/createReplica(of:id:in:description:policy:createdAt:)``).
    func createReplica(
        of primary: KeyRecord, in region: String, description: String, policy: String?, tags: [TagRecord]
    ) async throws(KMSError) -> KeyRecord {
        let scope = KeyScope(account: primary.scope.account, region: region)
        let now = clock()
        let replica: KeyRecord
        do {
            replica = try await store.createReplica(
                of: primary.scope, id: primary.id, in: region, description: description,
                policy: policy ?? Self.defaultPolicy(account: scope.account), createdAt: now)
        } catch {
            switch error.code {
            case .alreadyExists:
                throw KMSError(.alreadyExists, "\(Self.keyARN(primary.id, in: scope)) already exists in \(region).")
            case .conflict:
                throw KMSError(
                    .invalidState,
                    "\(Self.keyARN(primary.id, in: primary.scope)) is pending deletion or no longer primary.")
            case .notFound:
                throw KMSError(.notFound, "Key '\(Self.keyARN(primary.id, in: primary.scope))' does not exist")
            default: throw KMSError(.internal, "the key store failed")
            }
        }
        if !tags.isEmpty {
            try await storeCall { () throws(StoreError) in try await store.setTags(tags, on: replica.id, in: scope) }
        }
        return replica
    }

    /// Makes `region`'s key of `primary`'s multi-Region set the primary.
    func updatePrimaryRegion(of primary: KeyRecord, to region: String) async throws(KMSError) {
        try await storeCall { () throws(StoreError) in
            try await store.updatePrimaryRegion(account: primary.scope.account, id: primary.id, to: region)
        }
    }
}

/// Region names as AWS writes them (`us-east-1`, `us-gov-west-1`).
package enum RegionName {
    /// Whether `region` has the form of an AWS region name, the model's `^([a-z]+-){2,3}\d+$`: 2 or 3
    /// lower-case ASCII words, each followed by a dash, then ASCII digits. Read byte by byte (it runs on every
    /// request, for the credential's scope): a byte of a non-ASCII character is neither a letter nor a digit.
    package static func isValid(_ region: String) -> Bool {
        var words = 0
        var length = 0
        var lowercase = true
        var digits = true
        for byte in region.utf8 {
            if byte == UInt8(ascii: "-") {
                guard length > 0, lowercase else { return false }
                words += 1
                length = 0
                lowercase = true
                digits = true
            } else {
                length += 1
                lowercase = lowercase && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                digits = digits && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
        }
        return (2...3).contains(words) && length > 0 && digits
    }
}
