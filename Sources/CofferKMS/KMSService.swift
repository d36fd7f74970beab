import CofferCrypto
import CofferHSMClient
import CofferStore
import CofferWire
import Foundation
import Metrics

/// Where the KMS layer sends cryptographic work: an HSM session (``HSMPool``), never key material.
public protocol CryptoBackend: Sendable {
    /// Runs one session command on some HSM.
    func execute(_ command: SessionCommand) async throws(HSMClientError) -> SessionResult
}

extension HSMPool: CryptoBackend {}

/// The AWS KMS service (DESIGN.md, "One request, end to end"): the operations of ``KMSRegistry`` run
/// through one pipeline (``perform(_:body:context:)``) over a ``KeyStore`` for metadata and backing-key
/// tokens and an HSM for every cryptographic step. It never sees a domain key or a backing key in
/// plaintext.
public final class KMSService: Sendable {
    /// AWS's limits that the model does not state.
    public enum Limits {
        /// The largest key policy KMS accepts (32 KiB), below the model's 131072 characters.
        public static let policyMaximum = 32_768
        /// Tags per key.
        public static let tagsPerKey = 50
    }

    let store: any KeyStore
    let hsm: any CryptoBackend
    let clock: @Sendable () -> Int64
    let authorizer: any Authorizer
    let audit: any AuditSink
    let backingCache = BackingKeyCache()
    /// Backing-key tokens parsed once per distinct DER.
    let parsedTokens = ParsedTokens()

    /// A service over `store` and `hsm`; `clock` gives seconds since 1970. `authorizer` decides every
    /// request and `audit` records every call.
    public init(
        store: any KeyStore, hsm: any CryptoBackend, clock: @escaping @Sendable () -> Int64,
        authorizer: any Authorizer = AllowAll(), audit: any AuditSink = NoAudit()
    ) {
        self.store = store
        self.hsm = hsm
        self.clock = clock
        self.authorizer = authorizer
        self.audit = audit
    }

    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    public static func keyARN(_ keyID: String, in scope: KeyScope) -> String {
        "arn:aws:kms:\(scope.region):\(scope.account):key/\(keyID)"
    }

    /// `arn:aws:kms:REGION:ACCOUNT:alias/NAME` (the name includes `alias/`).
    public static func aliasARN(_ name: String, in scope: KeyScope) -> String {
        "arn:aws:kms:\(scope.region):\(scope.account):\(name)"
    }

    /// The default key policy: the account root may do everything, which delegates to the account's
    /// identity policies (AWS's default key policy).
    static func defaultPolicy(account: String) -> String {
        #"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::"#
            + account + #":root"},"Action":"kms:*","Resource":"*"}]}"#
    }

    // MARK: The pipeline

    /// Answers one request for the operation `name` with its JSON `body`: the operation's response
    /// body, or the AWS error to send.
    public func perform(
        operation name: String, body: [UInt8], context: RequestContext
    ) async throws(KMSError)
        -> [UInt8]
    {
        guard let operation = KMSRegistry.operation(named: name) else {
            if KMSRegistry.isAWSOperation(name) {
                throw KMSError(.unsupportedOperation, "Coffer does not support \(name) yet")
            }
            throw KMSError(.unknownOperation, "Unknown operation \(name)")
        }
        return try await perform(operation, body: body, context: context)
    }

    /// Decode and validate, resolve and check the key, authorize, honour DryRun, run, encode, audit.
    public func perform<Operation: KMSOperation>(
        _ operation: Operation.Type, body: [UInt8], context: RequestContext
    ) async throws(KMSError) -> [UInt8] {
        var event = AuditEvent(operation: Operation.name, context: context)
        do throws(KMSError) {
            // Parsed once, for the input and the audit record's parameters.
            let object = try Operation.Input.requestObject(body)
            event.requestParameters = body.isEmpty ? nil : AuditRedaction.parameters(object)
            let input = try Operation.Input(object: object)
            try Operation.validate(input)
            var key: KeyRecord?
            let reference = Operation.requirement != .none ? Operation.key(in: input) : nil
            if let reference {
                key = try await resolve(reference, Operation.requirement, in: context)
                event.keyARN = key.map { Self.keyARN($0.id, in: context.scope) }
            }
            // Authorization comes before the key's state and usage, as in AWS: a caller who may not use
            // a key learns nothing of its state.
            let decision =
                Operation.authorizedByPolicy
                ? try await authorizer.authorize(
                    authorization(
                        Operation.action, key: key, reference: reference, conditions: Operation.conditions(input),
                        context: context, resource: Operation.resource(in: input, scope: context.scope)))
                : Decision(decidedBy: "\(Operation.name)'s own rule")
            event.decision = decision
            guard decision.allowed else { throw KMSError(.accessDenied, decision.message) }
            if let key { try check(key, Operation.requirement, in: context.scope) }
            var call = OperationCall(kms: self, context: context, key: key, dryRun: input.isDryRun)
            call.decision = decision
            // The record of a call that changes the store is written in the transaction of its (first)
            // change; one that changes nothing is appended on its own below.
            let pending = audit.prepare(event)
            let result: Result<Operation.Output, KMSError> = await PendingAudit.$current.withValue(pending) {
                do throws(KMSError) {
                    return .success(try await Operation.run(input, call))
                } catch {
                    return .failure(error)
                }
            }
            let output = try result.get()
            // Every operation with a DryRun member stops in OperationCall.hsm; one that returned did not.
            guard !input.isDryRun else { throw KMSError(.internal, "\(Operation.name) did not honour DryRun") }
            if let pending {
                try await audit.append(pending)
            } else {
                await audit.record(event)
            }
            return output.json
        } catch {
            event.errorCode = error.code.awsName
            event.errorMessage = error.message
            await audit.record(event)
            throw error
        }
    }

    /// Resolves, authorizes for `action` and checks a second key of one request (ReEncrypt's destination,
    /// the key an alias points at now).
    func otherKey(
        _ reference: KeyReference, _ requirement: KeyRequirement, action: String,
        conditions: RequestConditions = RequestConditions(), in context: RequestContext
    ) async throws(KMSError) -> KeyRecord {
        let record = try await resolve(reference, requirement, in: context)
        try await require(
            authorization(action, key: record, reference: reference, conditions: conditions, context: context))
        try check(record, requirement, in: context.scope)
        return record
    }

    /// Authorizes a further step of a request (a second key, another region's key); AccessDeniedException
    /// when refused.
    func require(_ input: AuthorizationInput) async throws(KMSError) {
        let decision = try await authorizer.authorize(input)
        guard decision.allowed else { throw KMSError(.accessDenied, decision.message) }
    }

    /// The authorizer's view of a request: the key, how it was named (`kms:RequestAlias`) and a lazy
    /// reader of its aliases (`kms:ResourceAliases`).
    func authorization(
        _ action: String, key: KeyRecord?, reference: KeyReference?, conditions: RequestConditions,
        context: RequestContext, resource: String? = nil
    ) -> AuthorizationInput {
        var alias: String?
        if case .named(let text)? = reference {
            if text.hasPrefix("alias/") {
                alias = text
            } else if text.hasPrefix("arn:"), let range = text.range(of: ":alias/") {
                alias = String(text[text.index(after: range.lowerBound)...])
            }
        }
        let store = self.store
        return AuthorizationInput(
            action: action, key: key, context: context, conditions: conditions, requestAlias: alias,
            resourceAliases: {
                guard let key else { return [] }
                let aliases = try? await store.listAliases(key.scope, keyID: key.id, after: nil, limit: 1_000)
                return aliases?.map(\.name)
            },
            grants: {
                guard let key else { return [] }
                let grants = try? await store.grants(key.scope, of: key.id, after: nil, limit: GrantRules.perKey)
                return (grants ?? []).map(GrantRules.rule)
            }, resource: resource)
    }

    // MARK: Store and HSM access

    /// Made on first use, after the host has bootstrapped swift-metrics (nothing is measured before), and
    /// kept: making a handle per call registers it with the metrics factory again, under its lock.
    static let storeCallTimer = Metrics.Timer(label: "coffer_store_call_duration_seconds")
    static let hsmCallTimer = Metrics.Timer(label: "coffer_hsm_call_duration_seconds")

    /// Runs a store call, timed (`coffer_store_call_duration_seconds`, failures counted by
    /// `coffer_store_failures_total`); a failure becomes the AWS error of ``storeFailure(_:)``.
    func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(KMSError) -> T {
        let started = ContinuousClock.now
        defer { Self.storeCallTimer.record(duration: ContinuousClock.now - started) }
        do {
            return try await body()
        } catch {
            Counter(label: "coffer_store_failures_total", dimensions: [("code", "\(error.code)")]).increment()
            throw Self.storeFailure(error)
        }
    }

    /// The AWS error of a store failure.
    static func storeFailure(_ error: StoreError) -> KMSError {
        switch error.code {
        case .notFound: KMSError(.notFound, "\(error)")
        case .alreadyExists: KMSError(.alreadyExists, "\(error)")
        case .conflict, .stale: KMSError(.invalidState, "The key changed while the request ran; try again.")
        case .unavailable: KMSError(.dependencyTimeout, "The key store is not available; try again.", cause: "\(error)")
        default: KMSError(.internal, "the key store failed", cause: "\(error)")
        }
    }

    /// Runs `command` on an HSM; a failure the HSM answers is mapped to AWS's error here unless
    /// `returningFailures`, when the caller maps it (ImportKeyMaterial's several exceptions).
    /// `invalidArgument`, when given, is what an HSM `invalidArgument` means for this command (otherwise a
    /// host-side check missed something: an internal error).
    func hsmCall(
        _ command: SessionCommand, returningFailures: Bool = false, invalidArgument: KMSError? = nil
    ) async throws(KMSError) -> SessionResult {
        let result: SessionResult
        let started = ContinuousClock.now
        defer { Self.hsmCallTimer.record(duration: ContinuousClock.now - started) }
        do {
            result = try await hsm.execute(command)
        } catch {
            if error.code == .unavailable || error.code == .transport {
                throw KMSError(.dependencyTimeout, "no HSM is available")
            }
            throw KMSError(.internal, "the HSM refused: \(error.failure.map { "\($0.code)" } ?? "\(error.code)")")
        }
        if case .failure(let failure) = result, !returningFailures {
            switch failure.code {
            case .invalidCiphertext, .authenticationFailed:
                throw KMSError(.invalidCiphertext, "")
            case .incorrectKey:
                throw KMSError(
                    .incorrectKey, "The key ID in the request does not identify the key used to encrypt the ciphertext")
            case .timeWindow:
                // A backing-key token past its notAfter: imported material past its ValidTo, which the
                // HSM's clock saw before the host's.
                throw KMSError(.invalidState, "The key material has expired.")
            case .invalidArgument where invalidArgument != nil:
                throw invalidArgument ?? KMSError(.internal, "")
            default: throw KMSError(.internal, "the HSM refused: \(failure.code)")
            }
        }
        return result
    }

    // MARK: Keys

    /// Resolves `reference` within `context`'s scope (aliases only where `requirement` allows them),
    /// finishing any deletion whose window has passed. The caller authorizes, then ``check(_:_:in:)``s.
    func resolve(
        _ reference: KeyReference, _ requirement: KeyRequirement, in context: RequestContext
    ) async throws(KMSError) -> KeyRecord {
        let record: KeyRecord
        switch reference {
        case .named(let text):
            record = try await find(text, aliases: requirement.allowsAliases, in: context.scope)
        case .ciphertext(let blob, let named):
            // An asymmetric key's ciphertext names no key: the request's KeyId does (AWS requires it).
            let namedRecord: KeyRecord? =
                if let named { try await find(named, aliases: true, in: context.scope) } else { nil }
            if let namedRecord, namedRecord.keySpec != KeySpec.symmetricDefault.rawValue {
                record = namedRecord
                break
            }
            guard let parsed = try? CiphertextBlob(bytes: blob), parsed.keyID.count == 16 else {
                throw KMSError(.invalidCiphertext, "")
            }
            if let expected = namedRecord {
                guard KeyIdentifier.bytes(ofKeyID: expected.id) == parsed.keyID else {
                    throw KMSError(
                        .incorrectKey,
                        "The key ID in the request does not identify the key used to encrypt the ciphertext")
                }
                record = expected
                break
            }
            // The blob's 16 bytes name a UUID key or a multi-Region (`mrk-`) key of this scope.
            var found: KeyRecord?
            for id in KeyIdentifier.keyIDs(fromBytes: parsed.keyID) {
                do {
                    found = try await find(id, aliases: false, in: context.scope)
                    break
                } catch {
                    guard error.code == .notFound else { throw error }
                }
            }
            guard let found else { throw KMSError(.invalidCiphertext, "") }
            record = found
        }
        return record
    }

    /// The key `text` names in `scope`.
    func find(_ text: String, aliases: Bool, in scope: KeyScope) async throws(KMSError) -> KeyRecord {
        let id: String
        switch try KeyIdentifier(text, scope: scope) {
        case .keyID(let keyID): id = keyID
        case .alias(let name):
            guard aliases else { throw KMSError(.notFound, "Invalid keyId '\(text)'") }
            guard let alias = try await storeCall({ () throws(StoreError) in try await store.alias(scope, name: name) })
            else { throw KMSError(.notFound, "Alias \(Self.aliasARN(name, in: scope)) is not found.") }
            id = alias.keyID
        }
        guard let record = try await storeCall({ () throws(StoreError) in try await store.key(scope, id: id) }) else {
            throw KMSError(.notFound, "Key '\(Self.keyARN(id, in: scope))' does not exist")
        }
        if record.state == .pendingDeletion, let date = record.deletionDate, clock() >= date {
            try await housekeeping { () throws(StoreError) in try await store.deleteKey(scope, id: record.id) }
            throw KMSError(.notFound, "Key '\(Self.keyARN(id, in: scope))' does not exist")
        }
        if record.state == .pendingReplicaDeletion, let started = try await startDeletionWindow(record) {
            return started
        }
        if record.expirationModel == ExpirationModelType.keyMaterialExpires.rawValue, let validTo = record.validTo,
            clock() >= validTo, record.state == .enabled || record.state == .disabled
        {
            // Imported material past its ValidTo is deleted, as AWS deletes it: the key awaits an import.
            var expired = record
            expired.state = .pendingImport
            expired.validTo = nil
            expired.expirationModel = nil
            do throws(KMSError) {
                try await housekeeping { () throws(StoreError) in
                    try await store.replaceBackingKeys(expired, with: nil)
                }
            } catch  where error.code == .invalidState {
                // Another request changed the key first (it may have expired it, or imported again): the
                // key as it is now.
                guard let fresh = try await storeCall({ () throws(StoreError) in try await store.key(scope, id: id) })
                else { throw KMSError(.notFound, "Key '\(Self.keyARN(id, in: scope))' does not exist") }
                return fresh
            }
            expired.version += 1
            return expired
        }
        return record
    }

    /// A store change a request runs into rather than makes (a key past its deletion date deleted, expired
    /// material removed): it must not carry the request's own audit record (``PendingAudit``).
    func housekeeping<T: Sendable>(_ body: () async throws(StoreError) -> T) async throws(KMSError) -> T {
        let result: Result<T, StoreError> = await PendingAudit.$current.withValue(nil) {
            do throws(StoreError) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        return try await storeCall { () throws(StoreError) in try result.get() }
    }

    /// AWS's key-state and key-usage rules for `requirement`.
    func check(_ record: KeyRecord, _ requirement: KeyRequirement, in scope: KeyScope) throws(KMSError) {
        let arn = Self.keyARN(record.id, in: scope)
        switch requirement {
        case .none, .any:
            return
        case .changeable:
            guard record.state != .pendingDeletion else { throw KMSError(.invalidState, "\(arn) is pending deletion.") }
            guard record.state != .pendingReplicaDeletion else {
                throw KMSError(.invalidState, "\(arn) is pending replica deletion.")
            }
        case .pendingDeletion:
            guard record.state == .pendingDeletion || record.state == .pendingReplicaDeletion else {
                throw KMSError(.invalidState, "\(arn) is not pending deletion.")
            }
        case .usable(let usage, _):
            switch record.state {
            case .enabled: break
            case .disabled: throw KMSError(.disabled, "\(arn) is disabled.")
            case .pendingDeletion: throw KMSError(.invalidState, "\(arn) is pending deletion.")
            case .pendingImport: throw KMSError(.invalidState, "\(arn) is pending import.")
            case .pendingReplicaDeletion: throw KMSError(.invalidState, "\(arn) is pending replica deletion.")
            }
            if let usage, record.keyUsage != usage.rawValue {
                throw KMSError(
                    .invalidKeyUsage, "\(arn) key usage is \(record.keyUsage) which is not valid for this operation.")
            }
        }
    }

    /// A new backing key for `keyID`, made on an HSM and returned only as its token.
    func newBackingKey(
        for keyID: String, spec: KeySpec = .symmetricDefault
    ) async throws(KMSError) -> (id: String, token: [UInt8]) {
        guard let keyBytes = KeyIdentifier.bytes(ofKeyID: keyID) else { throw KMSError(.internal, "bad key id") }
        let backingID = SystemEntropy.bytes(count: 16)
        guard
            case .token(let token) = try await hsmCall(
                .createBackingKey(keyID: keyBytes, backingKeyID: backingID, spec: spec.backingKeySpec))
        else { throw KMSError(.internal, "the HSM did not return a backing key token") }
        return (Hex.encode(backingID), token.derBytes)
    }

    /// Creates a key `id` of `spec` and `usage` in `scope` with its first backing key, made on an HSM
    /// (CreateKey and seeding).
    func createKey(
        id: String, scope: KeyScope, spec: KeySpec = .symmetricDefault, usage: KeyUsageType = .encryptDecrypt,
        description: String, policy: String?, tags: [TagRecord], multiRegion: Bool = false
    ) async throws(KMSError) -> KeyRecord {
        let backing = try await newBackingKey(for: id, spec: spec)
        let now = clock()
        let record = KeyRecord(
            scope: scope, id: id, description: description, keyUsage: usage.rawValue,
            keySpec: spec.rawValue, state: .enabled, creationDate: now,
            policy: policy ?? Self.defaultPolicy(account: scope.account),
            primaryRegion: multiRegion ? scope.region : nil)
        try await storeCall { () throws(StoreError) in
            try await store.createKey(
                record,
                firstBackingKey: BackingKeyRecord(
                    scope: scope, keyID: id, backingKeyID: backing.id, token: backing.token, createdAt: now,
                    origin: .creation), tags: tags)
        }
        return record
    }

    /// Seconds since 1970, by the service's clock.
    var now: Int64 { clock() }

    /// Updates a key and replaces its backing keys (imported material).
    func replaceBackingKeys(_ key: KeyRecord, with backing: BackingKeyRecord?) async throws(KMSError) {
        try await storeCall { () throws(StoreError) in try await store.replaceBackingKeys(key, with: backing) }
    }

    /// Creates a key of Origin EXTERNAL: PendingImport, with no backing key until material is imported.
    func createExternalKey(
        id: String, scope: KeyScope, spec: KeySpec, usage: KeyUsageType, description: String, policy: String?,
        tags: [TagRecord], multiRegion: Bool = false
    ) async throws(KMSError) -> KeyRecord {
        let record = KeyRecord(
            scope: scope, id: id, description: description, keyUsage: usage.rawValue, keySpec: spec.rawValue,
            state: .pendingImport, creationDate: clock(), policy: policy ?? Self.defaultPolicy(account: scope.account),
            origin: "EXTERNAL", primaryRegion: multiRegion ? scope.region : nil)
        try await storeCall { () throws(StoreError) in
            try await store.createKey(record, firstBackingKey: nil, tags: tags)
        }
        return record
    }

    /// The key's backing keys, newest first.
    func backingKeys(of record: KeyRecord) async throws(KMSError) -> [BackingKeyRecord] {
        try await storeCall { () throws(StoreError) in try await store.backingKeys(record.scope, of: record.id) }
    }

    /// The key's backing keys for a cryptographic request: from the cache when it holds them for this
    /// record's version (``BackingKeyCache``), else from the store (then cached); `fresh` reads the store.
    func usableBackingKeys(of record: KeyRecord, fresh: Bool = false) async throws(KMSError) -> [BackingKeyRecord] {
        let now = clock()
        if !fresh, let cached = backingCache.backingKeys(of: record, now: now) { return cached }
        let backing = try await storeCall { () throws(StoreError) in
            try await store.backingKeys(record.scope, of: record.id)
        }
        backingCache.keep(backing, of: record, now: now)
        return backing
    }

    /// The current (newest) backing-key token of a key.
    func currentToken(_ record: KeyRecord) async throws(KMSError) -> ExportedKeyToken {
        let backing = try await usableBackingKeys(of: record)
        guard let newest = backing.first, let token = parsedTokens.token(newest.token) else {
            throw KMSError(.internal, "the key has no usable backing key")
        }
        return token
    }

    /// The token of the backing key a blob was made under.
    func token(for blob: [UInt8], of record: KeyRecord) async throws(KMSError) -> ExportedKeyToken {
        guard let parsed = try? CiphertextBlob(bytes: blob) else { throw KMSError(.invalidCiphertext, "") }
        let wanted = Hex.encode(parsed.backingKeyID)
        var backing = try await usableBackingKeys(of: record)
        if !backing.contains(where: { $0.backingKeyID == wanted }) {
            backing = try await usableBackingKeys(of: record, fresh: true)
        }
        guard let match = backing.first(where: { $0.backingKeyID == wanted }),
            let token = parsedTokens.token(match.token)
        else { throw KMSError(.invalidCiphertext, "") }
        return token
    }

    // MARK: Scheduled work

    /// Deletes keys whose deletion window has passed and rotates keys whose rotation is due, in every
    /// scope. A service host calls this periodically; returns `(deleted, rotated)` key ids.
    public func runScheduledWork() async throws(KMSError) -> (deleted: [String], rotated: [String]) {
        var deleted: [String] = []
        var rotated: [String] = []
        var cursor: KeyRecord?
        let now = clock()
        repeat {
            let after = cursor
            let page = try await storeCall { () throws(StoreError) in
                try await store.listAllKeys(after: after, limit: 500)
            }
            for key in page {
                if key.state == .pendingDeletion, let date = key.deletionDate, now >= date {
                    try await storeCall { () throws(StoreError) in try await store.deleteKey(key.scope, id: key.id) }
                    deleted.append(key.id)
                } else if key.state == .pendingReplicaDeletion {
                    _ = try await startDeletionWindow(key)
                } else if Self.rotationIsDue(key, now: now) {
                    // A multi-Region primary's rotation reaches its replicas in the store's transaction.
                    if try await rotate(key, origin: .automatic) { rotated.append(key.id) }
                }
            }
            cursor = page.count == 500 ? page.last : nil
        } while cursor != nil
        return (deleted, rotated)
    }

    /// Deletes every key, alias and tag of `account`, in every region (`coffer dev --allow-reset`).
    public func removeAllKeys(of account: String) async throws(KMSError) {
        try await storeCall { () throws(StoreError) in try await store.removeAllKeys(of: account) }
    }
}

extension KeyRequirement {
    var allowsAliases: Bool {
        switch self {
        case .any(let aliases), .usable(_, let aliases): aliases
        case .none, .changeable, .pendingDeletion: false
        }
    }
}
