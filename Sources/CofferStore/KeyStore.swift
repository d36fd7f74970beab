/// Where a service host keeps KMS keys (DESIGN.md): metadata, aliases, tags, backing-key tokens and the
/// domain's tokens. Everything in it is public or ciphertext. Keys, aliases and tags live in a
/// ``KeyScope`` (an account in a region) and are found only within it. Every method that returns has
/// made its change durable; a method that throws changed nothing.
public protocol KeyStore: Sendable {
    /// Creates a key with its first backing key (none for a key awaiting imported material) and its tags,
    /// atomically; `alreadyExists` if its scope has the id.
    func createKey(_ key: KeyRecord, firstBackingKey: BackingKeyRecord?, tags: [TagRecord]) async throws(StoreError)
    /// The key of `scope`, or nil.
    func key(_ scope: KeyScope, id: String) async throws(StoreError) -> KeyRecord?
    /// The keys of `scope` ordered by id, after `marker` (exclusive), at most `limit`.
    func listKeys(_ scope: KeyScope, after marker: String?, limit: Int) async throws(StoreError) -> [KeyRecord]
    /// The keys of every scope ordered by (account, region, id), after `cursor`, at most `limit`: for
    /// the scheduled work (deletions, rotations).
    func listAllKeys(after cursor: KeyRecord?, limit: Int) async throws(StoreError) -> [KeyRecord]
    /// Replaces a key's metadata if its row is still at `key.version` (`stale` otherwise: another change
    /// came first; ``rotate(_:newBackingKey:)`` and ``replaceBackingKeys(_:with:)`` check it too, and every
    /// change of a row moves its version). Not its primary region, which only
    /// ``updatePrimaryRegion(account:id:to:)`` changes. For a multi-Region primary key, its rotation
    /// settings (a shared property) are written to every related key in the same transaction.
    func updateKey(_ key: KeyRecord) async throws(StoreError)
    /// Deletes a key with its backing keys, aliases and tags.
    func deleteKey(_ scope: KeyScope, id: String) async throws(StoreError)
    /// The key's backing keys, newest (the active one) first.
    func backingKeys(_ scope: KeyScope, of keyID: String) async throws(StoreError) -> [BackingKeyRecord]
    /// Updates the key's metadata, deletes every backing key it has and adds `backing` when given,
    /// atomically (imported key material: ImportKeyMaterial, DeleteImportedKeyMaterial, expiry). For a
    /// multi-Region key, the material id is the set's: `conflict` when a related key has another, and
    /// related keys without one take it.
    func replaceBackingKeys(_ key: KeyRecord, with backing: BackingKeyRecord?) async throws(StoreError)
    /// Adds a newer backing key (a rotation) and updates the key's metadata, atomically. For a
    /// multi-Region key, every related key gets the backing key and the rotation settings too.
    func rotate(_ key: KeyRecord, newBackingKey: BackingKeyRecord) async throws(StoreError)
    /// The keys of `account` with the multi-Region id `id`, one per region, ordered by region.
    func relatedKeys(account: String, id: String) async throws(StoreError) -> [KeyRecord]
    /// Creates the replica in `region` of the multi-Region primary `id` of `primary`, atomically from the
    /// primary as it is in the transaction: its shared properties and copies of its backing keys (none
    /// for imported material, whose id the replica takes). `alreadyExists` if the region has the key,
    /// `conflict` if the key is no longer primary or is pending deletion.
    func createReplica(
        of primary: KeyScope, id: String, in region: String, description: String, policy: String, createdAt: Int64
    ) async throws(StoreError) -> KeyRecord
    /// Schedules a key's deletion in one transaction: a multi-Region primary with replicas waits for them
    /// (PendingReplicaDeletion, keeping `windowDays`); any other key is PendingDeletion until `now` plus
    /// the window. Only the state columns change.
    func scheduleDeletion(
        _ scope: KeyScope, id: String, windowDays: Int, now: Int64
    ) async throws(StoreError) -> KeyRecord
    /// A primary in PendingReplicaDeletion whose replicas are all gone becomes PendingDeletion (its window
    /// starting `now`), in one conditional update; nil when it is not (replicas remain, or another state).
    func startDeletionWindow(_ scope: KeyScope, id: String, now: Int64) async throws(StoreError) -> KeyRecord?
    /// Makes `region` the primary region of every key of `account` with the multi-Region id `id`,
    /// atomically; `notFound` unless that region has one.
    func updatePrimaryRegion(account: String, id: String, to region: String) async throws(StoreError)
    /// Creates an alias; `alreadyExists` if its scope has the name.
    func createAlias(_ alias: AliasRecord) async throws(StoreError)
    /// Points an existing alias at another key of its scope.
    func updateAlias(_ alias: AliasRecord) async throws(StoreError)
    /// Deletes an alias.
    func deleteAlias(_ scope: KeyScope, name: String) async throws(StoreError)
    /// The alias of `scope`, or nil.
    func alias(_ scope: KeyScope, name: String) async throws(StoreError) -> AliasRecord?
    /// The aliases of `scope` ordered by name (of one key, or all), after `marker`, at most `limit`.
    func listAliases(
        _ scope: KeyScope, keyID: String?, after marker: String?, limit: Int
    ) async throws(StoreError) -> [AliasRecord]
    /// The key's tags, ordered by tag key.
    func tags(_ scope: KeyScope, of keyID: String) async throws(StoreError) -> [TagRecord]
    /// Adds or replaces tags.
    func setTags(_ tags: [TagRecord], on keyID: String, in scope: KeyScope) async throws(StoreError)
    /// Removes tags by key.
    func removeTags(_ keys: [String], from keyID: String, in scope: KeyScope) async throws(StoreError)
    /// Deletes every key, backing key, alias and tag of `account`, in every region (`coffer dev
    /// --allow-reset`); the domain's tokens stay.
    func removeAllKeys(of account: String) async throws(StoreError)
    /// Creates a grant; `alreadyExists` if its key has the grant id. `notFound` without the key.
    func createGrant(_ grant: GrantRecord) async throws(StoreError)
    /// One grant of a key, or nil.
    func grant(_ scope: KeyScope, keyID: String, grantID: String) async throws(StoreError) -> GrantRecord?
    /// The key's grants ordered by grant id, after `marker`, at most `limit`.
    func grants(
        _ scope: KeyScope, of keyID: String, after marker: String?, limit: Int
    ) async throws(StoreError)
        -> [GrantRecord]
    /// The grants of `scope` (every key) that `retiringPrincipal` may retire, ordered by grant id, after
    /// `marker` (a grant id), at most `limit`.
    func retirableGrants(
        _ scope: KeyScope, retiringPrincipal: String, after marker: String?, limit: Int
    ) async throws(StoreError) -> [GrantRecord]
    /// Deletes a grant; `notFound` if its key has no such grant.
    func deleteGrant(_ scope: KeyScope, keyID: String, grantID: String) async throws(StoreError)
    /// Appends one record to the hash-chained audit log; returns its sequence number.
    func appendAudit(_ entry: AuditEntry) async throws(StoreError) -> Int64
    /// Audit records after `sequence` (exclusive), oldest first, at most `limit`.
    func auditRecords(after sequence: Int64, limit: Int) async throws(StoreError) -> [AuditRow]
    /// The newest audit record of `keyARN` whose operation is one of `operations`, and the oldest record's
    /// time (when tracking began); nil values for an empty log or an unused key.
    func lastUse(
        of keyARN: String, operations: [String]
    ) async throws(StoreError) -> (
        row: AuditRow?, trackingStart: Int64?
    )
    /// Checks every record against the chain and the head (the last record's sequence and chain value).
    func verifyAudit() async throws(StoreError) -> AuditVerification
    /// Adds a principal with its first access key, atomically; `alreadyExists` if the ARN or the access
    /// key id is taken.
    func addPrincipal(_ principal: PrincipalRecord, key: AccessKeyRecord) async throws(StoreError)
    /// Every principal, ordered by ARN.
    func principals() async throws(StoreError) -> [PrincipalRecord]
    /// The principal's access keys, oldest first.
    func accessKeys(of principalARN: String) async throws(StoreError) -> [AccessKeyRecord]
    /// An access key and its principal, or nil.
    func accessKey(
        _ accessKeyID: String
    ) async throws(StoreError) -> (key: AccessKeyRecord, principal: PrincipalRecord)?
    /// Gives a principal a new access key and removes those named in `removing` (nil: every other key of
    /// the principal, as it is in the transaction), atomically; `notFound` without the principal,
    /// `alreadyExists` if the new id is taken.
    func replaceAccessKeys(
        of principalARN: String, adding key: AccessKeyRecord, removing: [String]?
    ) async throws(StoreError)
    /// Removes a principal and its access keys; `notFound` without it.
    func removePrincipal(_ arn: String) async throws(StoreError)
    /// Appends the domain token of `epoch` (DER); `alreadyExists` if that epoch is stored.
    func appendDomainToken(epoch: Int64, der: [UInt8]) async throws(StoreError)
    /// Every stored domain token, by epoch.
    func domainTokens() async throws(StoreError) -> [(epoch: Int64, der: [UInt8])]
    /// Answers when the database does (readiness: `/ready`); `database` when it cannot be reached.
    func ping() async throws(StoreError)
    /// Closes the database; the store is not used again.
    func close() async
    /// Up to `limit` stored key tokens after `place` (from the first without it), in ``TokenPlace`` order:
    /// backing keys, then access keys' secrets.
    func storedTokens(after place: TokenPlace?, limit: Int) async throws(StoreError) -> [StoredToken]
    /// Replaces the token at `place` with `new` if it still holds `expected` (a re-wrap never undoes a
    /// change made meanwhile); false when it no longer does or the row is gone.
    func replaceToken(at place: TokenPlace, expected: [UInt8], with new: [UInt8]) async throws(StoreError) -> Bool
}

extension KeyStore {
    /// Creates a key without tags.
    public func createKey(_ key: KeyRecord, firstBackingKey: BackingKeyRecord?) async throws(StoreError) {
        try await createKey(key, firstBackingKey: firstBackingKey, tags: [])
    }
}
