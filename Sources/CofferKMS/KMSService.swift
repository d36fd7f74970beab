import CofferCrypto
import CofferHSMClient
import CofferStore
import CofferWire
import Foundation

/// Where the KMS layer sends cryptographic work: an HSM session (``HSMPool``), never key material.
public protocol CryptoBackend: Sendable {
    /// Runs one session command on some HSM.
    func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult
}

extension HSMPool: CryptoBackend {}

/// The AWS KMS operations for symmetric keys (DESIGN.md, "One request, end to end"): validation and key
/// states as AWS applies them, metadata and backing-key tokens in a ``KeyStore``, every cryptographic step
/// on an HSM. It never sees a domain key or a backing key in plaintext.
public final class KMSService: Sendable {
    /// AWS's limits.
    public enum Limits {
        public static let descriptionMaximum = 8192
        public static let pendingWindowDays = 7...30
        public static let rotationPeriodDays = 90...2560
        public static let listLimit = 1...1000
        public static let policyMaximum = 32_768
    }

    let store: any KeyStore
    let hsm: any CryptoBackend
    let account: String

    /// The account id in ARNs.
    public var accountID: String { account }
    let clock: @Sendable () -> Int64

    /// A service for `account` over `store` and `hsm`; `clock` gives seconds since 1970.
    public init(store: any KeyStore, hsm: any CryptoBackend, account: String, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.hsm = hsm
        self.account = account
        self.clock = clock
    }

    func arn(_ keyID: String, region: String) -> String { "arn:aws:kms:\(region):\(account):key/\(keyID)" }

    func metadata(_ record: KeyRecord, region: String) -> KeyMetadata {
        KeyMetadata(record, arn: arn(record.id, region: region), account: account)
    }

    static func defaultPolicy(account: String) -> String {
        #"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::"#
            + account + #":root"},"Action":"kms:*","Resource":"*"}]}"#
    }

    // MARK: Store and HSM access

    func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(KMSError) -> T {
        do {
            return try await body()
        } catch {
            switch error.code {
            case .notFound: throw KMSError(.notFound, "\(error)")
            case .alreadyExists: throw KMSError(.alreadyExists, "\(error)")
            default: throw KMSError(.internal, "the key store failed")
            }
        }
    }

    func hsmCall(_ command: SessionCommand) async throws(KMSError) -> SessionResult {
        let result: SessionResult
        do {
            result = try await hsm.execute(command)
        } catch {
            if error.code == .unavailable || error.code == .transport {
                throw KMSError(.dependencyTimeout, "no HSM is available")
            }
            throw KMSError(.internal, "the HSM refused: \(error.failure.map { "\($0.code)" } ?? "\(error.code)")")
        }
        if case .failure(let failure) = result {
            switch failure.code {
            case .invalidCiphertext, .authenticationFailed:
                throw KMSError(.invalidCiphertext, "The ciphertext is invalid")
            case .incorrectKey:
                throw KMSError(
                    .incorrectKey, "The key ID in the request does not identify the key used to encrypt the ciphertext")
            default: throw KMSError(.internal, "the HSM refused: \(failure.code)")
            }
        }
        return result
    }

    // MARK: Keys

    /// Resolves `keyID` (id, key ARN, and when `allowAlias` alias name or ARN) to a key record,
    /// finishing any deletion whose window has passed.
    func resolve(_ text: String, allowAlias: Bool = true) async throws(KMSError) -> KeyRecord {
        let identifier = try KeyIdentifier(text, account: account)
        let id: String
        switch identifier {
        case .keyID(let keyID): id = keyID
        case .alias(let name):
            guard allowAlias else { throw KMSError(.notFound, "Alias is not allowed here; use a key ID or key ARN") }
            guard let alias = try await storeCall({ () throws(StoreError) in try await store.alias(name: name) }) else {
                throw KMSError(.notFound, "Alias \(name) is not found.")
            }
            id = alias.keyID
        }
        guard let record = try await storeCall({ () throws(StoreError) in try await store.key(id: id) }) else {
            throw KMSError(.notFound, "Key '\(text)' does not exist")
        }
        if record.state == .pendingDeletion, let date = record.deletionDate, clock() >= date {
            try await storeCall { () throws(StoreError) in try await store.deleteKey(id: record.id) }
            throw KMSError(.notFound, "Key '\(text)' does not exist")
        }
        return record
    }

    /// A key usable for cryptography and rotation: enabled (DisabledException) and not pending deletion
    /// (KMSInvalidStateException).
    func usable(_ text: String, allowAlias: Bool = true) async throws(KMSError) -> KeyRecord {
        let record = try await resolve(text, allowAlias: allowAlias)
        switch record.state {
        case .enabled: return record
        case .disabled: throw KMSError(.disabled, "\(arnHint(record)) is disabled.")
        case .pendingDeletion: throw KMSError(.invalidState, "\(arnHint(record)) is pending deletion.")
        }
    }

    /// A key that may still be changed: anything but pending deletion (KMSInvalidStateException).
    func changeable(_ text: String) async throws(KMSError) -> KeyRecord {
        let record = try await resolve(text, allowAlias: false)
        guard record.state != .pendingDeletion else {
            throw KMSError(.invalidState, "\(arnHint(record)) is pending deletion.")
        }
        return record
    }

    func arnHint(_ record: KeyRecord) -> String { "key/\(record.id)" }

    /// CreateKey (symmetric keys): a new key with one backing key created on an HSM.
    public func createKey(
        description: String = "", keyUsage: String? = nil, keySpec: String? = nil, policy: String? = nil,
        tags: [TagRecord] = [], multiRegion: Bool? = nil, region: String
    ) async throws(KMSError) -> KeyMetadata {
        guard description.count <= Limits.descriptionMaximum else {
            throw KMSError(.validation, "Description must be at most \(Limits.descriptionMaximum) characters")
        }
        guard (keyUsage ?? "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT" else {
            throw KMSError(.validation, "KeyUsage \(keyUsage ?? "") is not supported for SYMMETRIC_DEFAULT keys")
        }
        guard (keySpec ?? "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" else {
            throw KMSError(.unsupportedOperation, "KeySpec \(keySpec ?? "") is not supported yet")
        }
        guard multiRegion != true else { throw KMSError(.unsupportedOperation, "Multi-Region keys are not supported") }
        if let policy { try Self.checkPolicy(policy) }
        try Self.checkTags(tags)
        let id = UUID().uuidString.lowercased()
        let backing = try await newBackingKey(for: id)
        let now = clock()
        let record = KeyRecord(
            id: id, description: description, keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT",
            state: .enabled,
            creationDate: now, policy: policy ?? Self.defaultPolicy(account: account))
        try await storeCall { () throws(StoreError) in
            try await store.createKey(
                record,
                firstBackingKey: BackingKeyRecord(
                    keyID: id, backingKeyID: backing.id, token: backing.token, createdAt: now, origin: .creation))
        }
        if !tags.isEmpty { try await storeCall { () throws(StoreError) in try await store.setTags(tags, on: id) } }
        return metadata(record, region: region)
    }

    /// A new backing key for `keyID`, made on an HSM and returned only as its token.
    func newBackingKey(for keyID: String) async throws(KMSError) -> (id: String, token: [UInt8]) {
        guard let keyBytes = KeyIdentifier.bytes(ofKeyID: keyID) else { throw KMSError(.internal, "bad key id") }
        let backingID = SecretBytes.random(count: 16).withUnsafeBytes { [UInt8]($0) }
        guard
            case .token(let token) = try await hsmCall(
                .createBackingKey(keyID: keyBytes, backingKeyID: backingID, spec: "AES_256"))
        else { throw KMSError(.internal, "the HSM did not return a backing key token") }
        return (Hex.encode(backingID), token.derBytes)
    }

    /// DescribeKey.
    public func describeKey(_ keyID: String, region: String) async throws(KMSError) -> KeyMetadata {
        metadata(try await resolve(keyID), region: region)
    }

    /// ListKeys: `(keys as (id, arn), next marker)`.
    public func listKeys(
        limit: Int?, marker: String?, region: String
    ) async throws(KMSError) -> ([(String, String)], String?) {
        let pageSize = try Self.pageSize(limit)
        let after = try Self.decodeMarker(marker)
        let records = try await storeCall { () throws(StoreError) in
            try await store.listKeys(after: after, limit: pageSize + 1)
        }
        let page = records.prefix(pageSize)
        return (
            page.map { ($0.id, arn($0.id, region: region)) },
            records.count > pageSize ? page.last.map { Self.encodeMarker($0.id) } : nil
        )
    }

    /// EnableKey / DisableKey.
    public func setEnabled(_ keyID: String, _ enabled: Bool) async throws(KMSError) {
        var record = try await changeable(keyID)
        record.state = enabled ? .enabled : .disabled
        let updated = record
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
    }

    /// UpdateKeyDescription.
    public func updateDescription(_ keyID: String, _ description: String) async throws(KMSError) {
        guard description.count <= Limits.descriptionMaximum else {
            throw KMSError(.validation, "Description is too long")
        }
        var record = try await changeable(keyID)
        record.description = description
        let updated = record
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
    }

    /// ScheduleKeyDeletion: the key is unusable at once and deleted when the window passes.
    public func scheduleDeletion(
        _ keyID: String, pendingWindowInDays: Int?, region: String
    )
        async throws(KMSError) -> (keyID: String, deletionDate: Int64, days: Int)
    {
        let days = pendingWindowInDays ?? 30
        guard Limits.pendingWindowDays.contains(days) else {
            throw KMSError(.validation, "PendingWindowInDays must be between 7 and 30")
        }
        var record = try await changeable(keyID)
        record.state = .pendingDeletion
        record.deletionDate = clock() + Int64(days) * 86_400
        let updated = record
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
        return (arn(record.id, region: region), record.deletionDate ?? 0, days)
    }

    /// CancelKeyDeletion: the key returns as Disabled, as in AWS.
    public func cancelDeletion(_ keyID: String, region: String) async throws(KMSError) -> String {
        var record = try await resolve(keyID, allowAlias: false)
        guard record.state == .pendingDeletion else {
            throw KMSError(.invalidState, "\(arnHint(record)) is not pending deletion.")
        }
        record.state = .disabled
        record.deletionDate = nil
        let updated = record
        try await storeCall { () throws(StoreError) in try await store.updateKey(updated) }
        return arn(record.id, region: region)
    }

    // MARK: Validation helpers

    static func pageSize(_ limit: Int?) throws(KMSError) -> Int {
        let size = limit ?? 100
        guard Limits.listLimit.contains(size) else { throw KMSError(.validation, "Limit must be between 1 and 1000") }
        return size
    }

    static func encodeMarker(_ last: String) -> String { Data(last.utf8).base64EncodedString() }

    static func decodeMarker(_ marker: String?) throws(KMSError) -> String? {
        guard let marker else { return nil }
        guard let data = Data(base64Encoded: marker), let text = String(data: data, encoding: .utf8) else {
            throw KMSError(.invalidMarker, "Invalid marker")
        }
        return text
    }

    static func checkPolicy(_ policy: String) throws(KMSError) {
        guard !policy.isEmpty, policy.utf8.count <= Limits.policyMaximum,
            (try? JSONSerialization.jsonObject(with: Data(policy.utf8))) is [String: Any]
        else { throw KMSError(.malformedPolicy, "The key policy is not a JSON object of at most 32 KiB") }
    }

    static func checkTags(_ tags: [TagRecord]) throws(KMSError) {
        for tag in tags {
            guard (1...128).contains(tag.key.count), tag.value.count <= 256, !tag.key.hasPrefix("aws:") else {
                throw KMSError(.tag, "Tag keys are 1 … 128 characters and may not start with aws:; values at most 256")
            }
        }
    }
}
