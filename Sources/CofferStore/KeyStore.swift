/// Where a service host keeps KMS keys (DESIGN.md): metadata, aliases, tags, backing-key tokens and the
/// domain's tokens. Everything in it is public or ciphertext. Every method that returns has made its
/// change durable; a method that throws changed nothing.
public protocol KeyStore: Sendable {
    /// Creates a key with its first backing key, atomically.
    func createKey(_ key: KeyRecord, firstBackingKey: BackingKeyRecord) async throws(StoreError)
    /// The key, or nil.
    func key(id: String) async throws(StoreError) -> KeyRecord?
    /// Keys ordered by id, after `marker` (exclusive), at most `limit`.
    func listKeys(after marker: String?, limit: Int) async throws(StoreError) -> [KeyRecord]
    /// Replaces a key's metadata.
    func updateKey(_ key: KeyRecord) async throws(StoreError)
    /// Deletes a key with its backing keys, aliases and tags.
    func deleteKey(id: String) async throws(StoreError)
    /// The key's backing keys, newest (the active one) first.
    func backingKeys(of keyID: String) async throws(StoreError) -> [BackingKeyRecord]
    /// Adds a newer backing key (a rotation) and updates the key's metadata, atomically.
    func rotate(_ key: KeyRecord, newBackingKey: BackingKeyRecord) async throws(StoreError)
    /// Creates an alias; `alreadyExists` if the name is taken.
    func createAlias(_ alias: AliasRecord) async throws(StoreError)
    /// Points an existing alias at another key.
    func updateAlias(_ alias: AliasRecord) async throws(StoreError)
    /// Deletes an alias.
    func deleteAlias(name: String) async throws(StoreError)
    /// The alias, or nil.
    func alias(name: String) async throws(StoreError) -> AliasRecord?
    /// Aliases ordered by name (of one key, or all), after `marker`, at most `limit`.
    func listAliases(keyID: String?, after marker: String?, limit: Int) async throws(StoreError) -> [AliasRecord]
    /// The key's tags, ordered by tag key.
    func tags(of keyID: String) async throws(StoreError) -> [TagRecord]
    /// Adds or replaces tags.
    func setTags(_ tags: [TagRecord], on keyID: String) async throws(StoreError)
    /// Removes tags by key.
    func removeTags(_ keys: [String], from keyID: String) async throws(StoreError)
    /// Appends the domain token of `epoch` (DER); `alreadyExists` if that epoch is stored.
    func appendDomainToken(epoch: Int64, der: [UInt8]) async throws(StoreError)
    /// Every stored domain token, by epoch.
    func domainTokens() async throws(StoreError) -> [(epoch: Int64, der: [UInt8])]
}
