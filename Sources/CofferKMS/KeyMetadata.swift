import CofferStore

/// AWS KMS `KeyMetadata`, as DescribeKey and CreateKey answer it.
public struct KeyMetadata: Equatable, Sendable {
    public let keyID: String
    public let arn: String
    public let accountID: String
    public let creationDate: Int64
    public let enabled: Bool
    public let description: String
    public let keyUsage: String
    public let keyState: String
    public let deletionDate: Int64?
    public let keySpec: String
    /// `AWS_KMS`: Coffer generates the key material.
    public let origin = "AWS_KMS"
    /// `CUSTOMER`.
    public let keyManager = "CUSTOMER"
    public let encryptionAlgorithms = ["SYMMETRIC_DEFAULT"]
    public let multiRegion = false

    init(_ record: KeyRecord, arn: String, account: String) {
        keyID = record.id
        self.arn = arn
        accountID = account
        creationDate = record.creationDate
        enabled = record.state == .enabled
        description = record.description
        keyUsage = record.keyUsage
        keyState = record.state.rawValue
        deletionDate = record.deletionDate
        keySpec = record.keySpec
    }
}

/// A backing key as ListKeyRotations reports it.
public struct KeyRotation: Equatable, Sendable {
    public let keyID: String
    public let rotationDate: Int64
    /// `AUTOMATIC` or `ON_DEMAND`.
    public let rotationType: String
}
