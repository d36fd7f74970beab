import CofferStore
import Foundation

extension KMSService {
    // MARK: Aliases

    /// `alias/` + 1 … 250 characters of `[A-Za-z0-9/_-]`, not `alias/aws/…` (AWS's rule).
    static func checkAliasName(_ name: String) throws(KMSError) {
        let body = name.dropFirst("alias/".count)
        let allowed = body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_-".contains($0)) }
        guard name.hasPrefix("alias/"), (1...250).contains(body.count), allowed else {
            throw KMSError(.validation, "Alias must be alias/ followed by 1 … 250 of A-Z a-z 0-9 / _ -")
        }
        guard !name.hasPrefix("alias/aws/") else {
            throw KMSError(.invalidAliasName, "Aliases beginning with alias/aws/ are reserved")
        }
    }

    /// CreateAlias.
    public func createAlias(_ name: String, targetKeyID: String) async throws(KMSError) {
        try Self.checkAliasName(name)
        let key = try await changeable(targetKeyID)
        let now = clock()
        do {
            try await store.createAlias(AliasRecord(name: name, keyID: key.id, creationDate: now, lastUpdatedDate: now))
        } catch {
            if error.code == .alreadyExists {
                throw KMSError(.alreadyExists, "An alias with the name \(name) already exists")
            }
            throw KMSError(.internal, "the key store failed")
        }
    }

    /// UpdateAlias.
    public func updateAlias(_ name: String, targetKeyID: String) async throws(KMSError) {
        try Self.checkAliasName(name)
        let key = try await changeable(targetKeyID)
        guard let existing = try await storeCall({ () throws(StoreError) in try await store.alias(name: name) }) else {
            throw KMSError(.notFound, "Alias \(name) is not found.")
        }
        var updated = existing
        updated.keyID = key.id
        updated.lastUpdatedDate = clock()
        let record = updated
        try await storeCall { () throws(StoreError) in try await store.updateAlias(record) }
    }

    /// DeleteAlias.
    public func deleteAlias(_ name: String) async throws(KMSError) {
        try Self.checkAliasName(name)
        do {
            try await store.deleteAlias(name: name)
        } catch {
            throw error.code == .notFound
                ? KMSError(.notFound, "Alias \(name) is not found.") : KMSError(.internal, "the key store failed")
        }
    }

    /// ListAliases (of one key, or all): `(aliases, next marker)`.
    public func listAliases(
        keyID: String?, limit: Int?, marker: String?
    ) async throws(KMSError) -> ([AliasRecord], String?) {
        let pageSize = try Self.pageSize(limit)
        let after = try Self.decodeMarker(marker)
        let filter: String?
        if let keyID { filter = try await resolve(keyID, allowAlias: false).id } else { filter = nil }
        let records = try await storeCall { () throws(StoreError) in
            try await store.listAliases(keyID: filter, after: after, limit: pageSize + 1)
        }
        let page = Array(records.prefix(pageSize))
        return (page, records.count > pageSize ? page.last.map { Self.encodeMarker($0.name) } : nil)
    }

    // MARK: Tags

    /// TagResource.
    public func tagResource(_ keyID: String, tags: [TagRecord]) async throws(KMSError) {
        try Self.checkTags(tags)
        let key = try await changeable(keyID)
        try await storeCall { () throws(StoreError) in try await store.setTags(tags, on: key.id) }
    }

    /// UntagResource.
    public func untagResource(_ keyID: String, tagKeys: [String]) async throws(KMSError) {
        let key = try await changeable(keyID)
        try await storeCall { () throws(StoreError) in try await store.removeTags(tagKeys, from: key.id) }
    }

    /// ListResourceTags.
    public func listResourceTags(_ keyID: String) async throws(KMSError) -> [TagRecord] {
        let key = try await resolve(keyID, allowAlias: false)
        return try await storeCall { () throws(StoreError) in try await store.tags(of: key.id) }
    }

    // MARK: Rotation

    /// EnableKeyRotation: automatic rotation every `periodInDays` (90 … 2560, default 365).
    public func enableRotation(_ keyID: String, periodInDays: Int?) async throws(KMSError) {
        let days = periodInDays ?? 365
        guard Limits.rotationPeriodDays.contains(days) else {
            throw KMSError(.validation, "RotationPeriodInDays must be between 90 and 2560")
        }
        var key = try await usable(keyID, allowAlias: false)
        key.rotationEnabled = true
        key.rotationPeriodDays = days
        key.nextRotationDate = clock() + Int64(days) * 86_400
        let updated = key
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
    }

    /// DisableKeyRotation.
    public func disableRotation(_ keyID: String) async throws(KMSError) {
        var key = try await usable(keyID, allowAlias: false)
        key.rotationEnabled = false
        key.nextRotationDate = nil
        let updated = key
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
    }

    /// GetKeyRotationStatus: `(enabled, period, next rotation)`.
    public func rotationStatus(
        _ keyID: String
    ) async throws(KMSError) -> (enabled: Bool, periodInDays: Int?, next: Int64?) {
        let key = try await resolve(keyID, allowAlias: false)
        return (key.rotationEnabled, key.rotationPeriodDays, key.nextRotationDate)
    }

    /// RotateKeyOnDemand: a new backing key that encrypts from now on; older ones still decrypt.
    public func rotateOnDemand(_ keyID: String, region: String) async throws(KMSError) -> String {
        let key = try await usable(keyID, allowAlias: false)
        try await rotate(key, origin: .onDemand)
        return arn(key.id, region: region)
    }

    /// ListKeyRotations: every backing key after the first, newest first.
    public func listRotations(_ keyID: String, region: String) async throws(KMSError) -> [KeyRotation] {
        let key = try await resolve(keyID, allowAlias: false)
        let backing = try await storeCall { () throws(StoreError) in try await store.backingKeys(of: key.id) }
        return backing.filter { $0.origin != .creation }.map {
            KeyRotation(
                keyID: arn(key.id, region: region), rotationDate: $0.createdAt,
                rotationType: $0.origin == .automatic ? "AUTOMATIC" : "ON_DEMAND")
        }
    }

    private func rotate(_ key: KeyRecord, origin: BackingKeyRecord.Origin) async throws(KMSError) {
        let backing = try await newBackingKey(for: key.id)
        var updated = key
        if origin == .automatic, let days = key.rotationPeriodDays {
            updated.nextRotationDate = clock() + Int64(days) * 86_400
        }
        let record = updated
        let now = clock()
        try await storeCall { () throws(StoreError) in
            try await store.rotate(
                record,
                newBackingKey: BackingKeyRecord(
                    keyID: key.id, backingKeyID: backing.id, token: backing.token, createdAt: now, origin: origin))
        }
    }

    // MARK: Policies

    /// GetKeyPolicy (the only policy name is `default`).
    public func keyPolicy(_ keyID: String, name: String?) async throws(KMSError) -> String {
        guard (name ?? "default") == "default" else { throw KMSError(.notFound, "No such policy \(name ?? "")") }
        return try await resolve(keyID, allowAlias: false).policy
    }

    /// PutKeyPolicy (stored; enforcement is a later issue).
    public func putKeyPolicy(_ keyID: String, name: String?, policy: String) async throws(KMSError) {
        guard (name ?? "default") == "default" else { throw KMSError(.validation, "The policy name must be default") }
        try Self.checkPolicy(policy)
        var key = try await changeable(keyID)
        key.policy = policy
        let updated = key
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
    }

    // MARK: Scheduled work

    /// Deletes keys whose deletion window has passed and rotates keys whose rotation is due. A service
    /// host calls this periodically; returns `(deleted, rotated)` key ids.
    public func runScheduledWork() async throws(KMSError) -> (deleted: [String], rotated: [String]) {
        var deleted: [String] = []
        var rotated: [String] = []
        var marker: String?
        let now = clock()
        repeat {
            let after = marker
            let page = try await storeCall { () throws(StoreError) in try await store.listKeys(after: after, limit: 500)
            }
            for key in page {
                if key.state == .pendingDeletion, let date = key.deletionDate, now >= date {
                    try await storeCall { () throws(StoreError) in try await store.deleteKey(id: key.id) }
                    deleted.append(key.id)
                } else if key.state == .enabled, key.rotationEnabled, let next = key.nextRotationDate, now >= next {
                    try await rotate(key, origin: .automatic)
                    rotated.append(key.id)
                }
            }
            marker = page.count == 500 ? page.last?.id : nil
        } while marker != nil
        return (deleted, rotated)
    }
}
