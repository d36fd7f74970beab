import CofferCrypto
import CofferStore
import CofferWire
import Crypto
import CryptoExtras
import Foundation

/// A key that `coffer dev --seed` creates: given id (or one derived from its first alias, so the same
/// seed file gives the same ids on every start), scope, description, spec, aliases, tags, rotation and
/// state. Seeding is idempotent: a key or alias that exists is left as it is.
public struct KeySeed: Sendable, Equatable {
    /// The key id; nil to derive it from the scope and the first alias.
    public var id: String?
    /// The account and region the key lives in.
    public var scope: KeyScope
    /// The description.
    public var description: String
    /// The key spec (`SYMMETRIC_DEFAULT` today).
    public var keySpec: String
    /// The key usage; nil for the spec's default.
    public var keyUsage: String?
    /// Aliases (`alias/…`) of the key.
    public var aliases: [String]
    /// Tags, by tag key.
    public var tags: [TagRecord]
    /// Automatic rotation period in days, when rotation is on.
    public var rotationPeriodInDays: Int?
    /// Whether the key starts Enabled (true) or Disabled.
    public var enabled: Bool
    /// Known key material (raw bytes for symmetric and HMAC keys, PKCS#8 DER for RSA, ECC, Ed25519 and
    /// ML-DSA, the last in RFC 9881's seed-only form):
    /// the key is created with Origin EXTERNAL and the material enters through the import path, wrapped
    /// for the HSM like any ImportKeyMaterial.
    public var keyMaterial: SecretBytes?

    /// A seed.
    public init(
        id: String?, scope: KeyScope, description: String = "", keySpec: String = "SYMMETRIC_DEFAULT",
        keyUsage: String? = nil, aliases: [String] = [], tags: [TagRecord] = [], rotationPeriodInDays: Int? = nil,
        enabled: Bool = true, keyMaterial: SecretBytes? = nil
    ) {
        self.id = id
        self.scope = scope
        self.description = description
        self.keySpec = keySpec
        self.keyUsage = keyUsage
        self.aliases = aliases
        self.tags = tags
        self.rotationPeriodInDays = rotationPeriodInDays
        self.enabled = enabled
        self.keyMaterial = keyMaterial
    }

    /// The key id: the given one (lower case), or a UUID derived from SHA-256 of the scope and the first
    /// alias (version 8, RFC 9562's custom layout).
    public func keyID() throws(KMSError) -> String {
        if let id {
            guard UUID(uuidString: id) != nil else { throw KMSError(.validation, "seed key id \(id) is not a UUID") }
            return id.lowercased()
        }
        guard let alias = aliases.first else {
            throw KMSError(.validation, "a seeded key needs an id or at least one alias")
        }
        var digest = Array(
            SHA256.hash(data: Array("coffer-seed\u{0}\(scope.account)\u{0}\(scope.region)\u{0}\(alias)".utf8)))
        digest[6] = digest[6] & 0x0F | 0x80
        digest[8] = digest[8] & 0x3F | 0x80
        guard let id = KeyIdentifier.keyID(fromBytes: Array(digest.prefix(16))) else {
            throw KMSError(.internal, "cannot derive a key id")
        }
        return id
    }
}

extension KeySeed {
    /// Everything a seed could be refused for, checked before anything is created, so a bad seed file
    /// leaves nothing half made.
    public func validate() throws(KMSError) {
        let id = try keyID()
        guard let spec = KeySpec(rawValue: keySpec), spec.isSupported else {
            throw KMSError(.unsupportedOperation, "seed key \(id): KeySpec \(keySpec) is not supported yet")
        }
        guard keyUsage.map({ spec.supportedUsages.map(\.rawValue).contains($0) }) ?? true else {
            throw KMSError(.validation, "seed key \(id): KeyUsage \(keyUsage ?? "") does not fit \(spec.rawValue)")
        }
        if keyMaterial != nil {
            guard rotationPeriodInDays == nil else {
                throw KMSError(.validation, "seed key \(id): keys of imported material do not rotate")
            }
        }
        if rotationPeriodInDays != nil, spec != .symmetricDefault {
            throw KMSError(.validation, "seed key \(id): only SYMMETRIC_DEFAULT keys rotate")
        }
        if let days = rotationPeriodInDays, !(90...2560).contains(days) {
            throw KMSError(.validation, "seed key \(id): rotationPeriodInDays must be 90 … 2560")
        }
        guard description.utf16.count <= 8192 else {
            throw KMSError(.validation, "seed key \(id): description too long")
        }
        _ = try OperationRules.tags(tags.map { Tag(tagKey: $0.key, tagValue: $0.value) })
        for name in aliases {
            try OperationRules.checkAliasName(name)
            guard KMSPatterns.aliasNameType.matches(name), name.utf16.count <= 256 else {
                throw KMSError(.validation, "seed key \(id): \(name) is not an alias name")
            }
        }
    }
}

extension KMSService {
    /// Creates what `seeds` describe and is missing; returns the ids of the seeds' keys, in order.
    public func seed(_ seeds: [KeySeed]) async throws(KMSError) -> [String] {
        for seed in seeds { try seed.validate() }
        var ids: [String] = []
        for seed in seeds {
            let id = try seed.keyID()
            let scope = seed.scope
            let existing = try await storeCall { () throws(StoreError) in try await store.key(scope, id: id) }
            if existing == nil {
                let spec = KeySpec(rawValue: seed.keySpec) ?? .symmetricDefault
                let usage = seed.keyUsage.flatMap(KeyUsageType.init(rawValue:)) ?? spec.supportedUsages[0]
                let record: KeyRecord
                if let material = seed.keyMaterial {
                    record = try await importSeedMaterial(
                        material,
                        into: try await createExternalKey(
                            id: id, scope: scope, spec: spec, usage: usage, description: seed.description,
                            policy: nil, tags: seed.tags))
                } else {
                    record = try await createKey(
                        id: id, scope: scope, spec: spec, usage: usage, description: seed.description, policy: nil,
                        tags: seed.tags)
                }
                if !seed.enabled || seed.rotationPeriodInDays != nil {
                    let next = seed.rotationPeriodInDays.map { clock() + Int64($0) * 86_400 }
                    try await modify(record, .any(aliases: false)) { (record: inout KeyRecord) throws(KMSError) in
                        record.state = seed.enabled ? .enabled : .disabled
                        if let days = seed.rotationPeriodInDays {
                            record.rotationEnabled = true
                            record.rotationPeriodDays = days
                            record.nextRotationDate = next
                        }
                    }
                }
            }
            for name in seed.aliases {
                let alias = try await storeCall { () throws(StoreError) in try await store.alias(scope, name: name) }
                if let alias {
                    guard alias.keyID == id else {
                        throw KMSError(.alreadyExists, "seed alias \(name) already names another key (\(alias.keyID))")
                    }
                    continue
                }
                let now = clock()
                try await storeCall { () throws(StoreError) in
                    try await store.createAlias(
                        AliasRecord(scope: scope, name: name, keyID: id, creationDate: now, lastUpdatedDate: now))
                }
            }
            ids.append(id)
        }
        return ids
    }
}

extension KMSService {
    /// Known material through the import path: an import token from the HSM, the material wrapped here
    /// under its public key (RSA-OAEP SHA-256 of a fresh AES key, then RFC 5649), unwrapped, checked and
    /// sealed by the HSM. Only the HSM ever holds the material unwrapped after this call.
    func importSeedMaterial(_ material: SecretBytes, into key: KeyRecord) async throws(KMSError) -> KeyRecord {
        guard let keyBytes = KeyIdentifier.bytes(ofKeyID: key.id), let spec = KeySpec(rawValue: key.keySpec) else {
            throw KMSError(.internal, "bad seed key")
        }
        let result = try await importMaterial(material, keyID: keyBytes, spec: spec.backingKeySpec)
        guard case .importedKey(let backing, let id) = result else {
            if case .failure(let failure) = result, failure.code == .invalidArgument {
                throw KMSError(
                    .incorrectKeyMaterial, "seed key \(key.id): the key material is not a \(spec.rawValue) key")
            }
            throw KMSError(.internal, "seed key \(key.id): the HSM did not import the material")
        }
        var imported = key
        imported.state = .enabled
        imported.keyMaterialID = Hex.encode(id)
        imported.expirationModel = ExpirationModelType.keyMaterialDoesNotExpire.rawValue
        try await replaceBackingKeys(
            imported,
            with: BackingKeyRecord(
                scope: key.scope, keyID: key.id, backingKeyID: Hex.encode(Array(backing.header.subject.suffix(16))),
                token: backing.derBytes, createdAt: now, origin: .imported))
        imported.version += 1
        return imported
    }

    /// Seals `material` of the backing spec `spec` for the key id `keyID` (16 bytes) through the HSM's
    /// import path; the HSM's answer (`importedKey`, or its failure).
    func importMaterial(_ material: SecretBytes, keyID: [UInt8], spec: String) async throws(KMSError) -> SessionResult {
        guard
            case .importParameters(let token, let spki) = try await hsmCall(
                .createImportWrapping(
                    keyID: keyID, importID: SystemEntropy.bytes(count: 16),
                    wrapping: "RSA_2048/RSA_AES_KEY_WRAP_SHA_256", notAfter: WireTime(secondsSinceEpoch: now + 600)))
        else { throw KMSError(.internal, "the HSM did not return import parameters") }
        let encrypted: [UInt8]
        do {
            let wrappingKey = try _RSA.Encryption.PublicKey(derRepresentation: spki)
            let aes = SymmetricKey(size: .bits256)
            encrypted =
                Array(try aes.withUnsafeBytes { try wrappingKey.encrypt(Data($0), padding: .PKCS1_OAEP_SHA256) })
                + (try KeyWrapWithPadding.wrap(material, kek: aes))
        } catch {
            throw KMSError(.internal, "wrapping the material for the HSM failed")
        }
        return try await hsmCall(
            .importKeyMaterial(wrapping: token, encrypted: encrypted, spec: spec), returningFailures: true)
    }
}
