/// Where a key, alias or tag lives: one account in one region. Everything of a scope is invisible from
/// every other scope, as AWS keeps accounts and regions apart.
public struct KeyScope: Hashable, Sendable, CustomStringConvertible {
    /// The 12-digit account id.
    public var account: String
    /// The region, e.g. `us-east-1`.
    public var region: String

    /// A scope.
    public init(account: String, region: String) {
        self.account = account
        self.region = region
    }

    public var description: String { "\(account)/\(region)" }
}

/// What the store keeps about a KMS key: public metadata only. Key material exists in the store only as
/// backing-key tokens, which are ciphertext under a domain key (PROTOCOL §7, §8).
public struct KeyRecord: Hashable, Sendable {
    /// The key's lifecycle state.
    public enum State: String, Hashable, Sendable, CaseIterable {
        case enabled = "Enabled"
        case disabled = "Disabled"
        case pendingDeletion = "PendingDeletion"
        case pendingImport = "PendingImport"
        /// A multi-Region primary key scheduled for deletion while replicas remain: it waits for them,
        /// then its deletion window starts (AWS's PendingReplicaDeletion).
        case pendingReplicaDeletion = "PendingReplicaDeletion"
    }

    /// The account and region the key lives in.
    public var scope: KeyScope
    /// The key id (a UUID, lower case).
    public var id: String
    /// The description (0 … 8192 characters in AWS).
    public var description: String
    /// `ENCRYPT_DECRYPT`, …
    public var keyUsage: String
    /// `SYMMETRIC_DEFAULT`, …
    public var keySpec: String
    /// The lifecycle state.
    public var state: State
    /// Seconds since 1970.
    public var creationDate: Int64
    /// When a scheduled deletion happens (seconds since 1970).
    public var deletionDate: Int64?
    /// The key policy (JSON text).
    public var policy: String
    /// Automatic rotation on or off.
    public var rotationEnabled: Bool
    /// Automatic rotation period in days.
    public var rotationPeriodDays: Int?
    /// When automatic rotation next happens (seconds since 1970).
    public var nextRotationDate: Int64?
    /// `AWS_KMS`, or `EXTERNAL` for imported key material.
    public var origin: String
    /// Imported material: `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    public var expirationModel: String?
    /// When imported material expires (seconds since 1970).
    public var validTo: Int64?
    /// Imported material: the commitment the HSM computed of it (hex), which a re-import must match.
    public var keyMaterialID: String?
    /// A multi-Region key (`mrk-` id): the region of its primary key; nil for a single-Region key. The
    /// keys of one account with one `mrk-` id, one per region, share their backing keys.
    public var primaryRegion: String?
    /// PendingReplicaDeletion: the deletion window (days) that starts when the last replica is gone.
    public var pendingWindowDays: Int?
    /// The row's version: every change to the key's row makes it one more, and an update applies only to
    /// the version it was read at (``KeyStore/updateKey(_:)``), so no change is silently undone.
    public var version: Int64

    /// Whether the key is a multi-Region key.
    public var isMultiRegion: Bool { primaryRegion != nil }
    /// Whether the key is a multi-Region replica (its primary lives in another region).
    public var isReplica: Bool { primaryRegion.map { $0 != scope.region } ?? false }

    /// Builds a record.
    public init(
        scope: KeyScope, id: String, description: String, keyUsage: String, keySpec: String, state: State,
        creationDate: Int64, deletionDate: Int64? = nil, policy: String, rotationEnabled: Bool = false,
        rotationPeriodDays: Int? = nil, nextRotationDate: Int64? = nil, origin: String = "AWS_KMS",
        expirationModel: String? = nil, validTo: Int64? = nil, keyMaterialID: String? = nil,
        primaryRegion: String? = nil, pendingWindowDays: Int? = nil, version: Int64 = 0
    ) {
        self.version = version
        self.scope = scope
        self.id = id
        self.description = description
        self.keyUsage = keyUsage
        self.keySpec = keySpec
        self.state = state
        self.creationDate = creationDate
        self.deletionDate = deletionDate
        self.policy = policy
        self.rotationEnabled = rotationEnabled
        self.rotationPeriodDays = rotationPeriodDays
        self.nextRotationDate = nextRotationDate
        self.origin = origin
        self.expirationModel = expirationModel
        self.validTo = validTo
        self.keyMaterialID = keyMaterialID
        self.primaryRegion = primaryRegion
        self.pendingWindowDays = pendingWindowDays
    }
}

/// One backing key of a KMS key: its token (ciphertext) and when and how it was made.
public struct BackingKeyRecord: Hashable, Sendable {
    /// How a backing key came to be.
    public enum Origin: String, Hashable, Sendable {
        /// The key's first backing key.
        case creation = "CREATION"
        /// An automatic rotation.
        case automatic = "AUTOMATIC"
        /// RotateKeyOnDemand.
        case onDemand = "ON_DEMAND"
        /// ImportKeyMaterial.
        case imported = "IMPORTED"
    }

    /// The account and region of the KMS key.
    public var scope: KeyScope
    /// The KMS key.
    public var keyID: String
    /// The backing key id (hex of 16 bytes).
    public var backingKeyID: String
    /// The DER of the backing-key token (an `ExportedKeyToken`).
    public var token: [UInt8]
    /// Seconds since 1970.
    public var createdAt: Int64
    /// Creation, automatic or on-demand rotation.
    public var origin: Origin

    /// Builds a record.
    public init(
        scope: KeyScope, keyID: String, backingKeyID: String, token: [UInt8], createdAt: Int64, origin: Origin
    ) {
        self.scope = scope
        self.keyID = keyID
        self.backingKeyID = backingKeyID
        self.token = token
        self.createdAt = createdAt
        self.origin = origin
    }
}

/// An alias (`alias/name`) pointing at a key of the same scope.
public struct AliasRecord: Hashable, Sendable {
    /// The account and region the alias lives in.
    public var scope: KeyScope
    /// The full alias name, `alias/…`.
    public var name: String
    /// The key it points at.
    public var keyID: String
    /// Seconds since 1970.
    public var creationDate: Int64
    /// Seconds since 1970.
    public var lastUpdatedDate: Int64

    /// Builds a record.
    public init(scope: KeyScope, name: String, keyID: String, creationDate: Int64, lastUpdatedDate: Int64) {
        self.scope = scope
        self.name = name
        self.keyID = keyID
        self.creationDate = creationDate
        self.lastUpdatedDate = lastUpdatedDate
    }
}

/// A tag on a key.
public struct TagRecord: Hashable, Sendable {
    /// The tag key.
    public var key: String
    /// The tag value.
    public var value: String

    /// Builds a tag.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
