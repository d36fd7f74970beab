import CofferCrypto
import CofferStore
import CofferWire
import Foundation

/// ImportKeyMaterial: material wrapped under an import token's public key is unwrapped, checked for the
/// key's spec and sealed as the key's backing key, all inside an HSM. A key that had material before
/// takes only the same material again (IncorrectKeyMaterialException).
public enum ImportKeyMaterial: KMSOperation {
    public static let name = "ImportKeyMaterial"
    public static let action = "kms:ImportKeyMaterial"
    public static let requirement = KeyRequirement.changeable

    public static func key(in input: ImportKeyMaterialRequest) -> KeyReference? { .named(input.keyId) }

    public static func run(
        _ input: ImportKeyMaterialRequest, _ call: OperationCall
    ) async throws(KMSError) -> ImportKeyMaterialResponse {
        let key = try call.requiredKey()
        try ImportRules.requireExternal(key, call)
        let now = call.kms.now
        let (model, validTo) = try expiry(input, now: now)
        if input.importType == .newKeyMaterial, key.keyMaterialID != nil {
            throw KMSError(
                .unsupportedOperation,
                "Importing new key material into a key that has had material is not supported yet")
        }
        if let requested = input.keyMaterialId, let current = key.keyMaterialID, requested != current {
            throw KMSError(.incorrectKeyMaterial, "KeyMaterialId \(requested) is not the key's material")
        }
        // The import token: an importWrapping token of this key that has not expired.
        guard let token = try? ExportedKeyToken(derEncoded: input.importToken), token.header.kind == .importWrapping,
            let keyBytes = KeyIdentifier.bytes(ofKeyID: key.id), token.header.subject.prefix(16).elementsEqual(keyBytes)
        else { throw KMSError(.invalidImportToken, "The import token is not valid for \(call.arn(key.id)).") }
        if let notAfter = token.header.notAfter, notAfter.secondsSinceEpoch < now {
            throw KMSError(.expiredImportToken, "The import token has expired.")
        }
        guard let spec = KeySpec(rawValue: key.keySpec) else { throw KMSError(.internal, "unknown key spec") }
        let result = try await call.hsmReturningFailures(
            .importKeyMaterial(
                wrapping: token, encrypted: input.encryptedKeyMaterial, spec: spec.backingKeySpec,
                validTo: validTo.map(WireTime.init(secondsSinceEpoch:))))
        let imported: ExportedKeyToken
        let materialID: String
        switch result {
        case .importedKey(let backing, let id):
            imported = backing
            materialID = Hex.encode(id)
        case .failure(let failure):
            switch failure.code {
            case .timeWindow: throw KMSError(.expiredImportToken, "The import token has expired.")
            case .invalidCiphertext:
                throw KMSError(.invalidCiphertext, "The encrypted key material does not unwrap under the import token.")
            case .invalidArgument:
                throw KMSError(.incorrectKeyMaterial, "The key material is not a \(spec.rawValue) key.")
            case .unsupported: throw KMSError(.unsupportedOperation, failure.message)
            case .wrongKind, .wrongDomain, .authenticationFailed:
                throw KMSError(.invalidImportToken, "The import token is not valid for \(call.arn(key.id)).")
            default: throw KMSError(.internal, "the HSM refused: \(failure.code)")
            }
        default:
            throw KMSError(.internal, "the HSM did not return an imported key")
        }
        let backing = BackingKeyRecord(
            scope: key.scope, keyID: key.id, backingKeyID: Hex.encode(Array(imported.header.subject.suffix(16))),
            token: imported.derBytes, createdAt: now, origin: .imported)
        // A multi-Region key's related keys hold one material: the store refuses other material. The
        // key's rules are checked again on the key as it is when the write lands.
        try await call.kms.modify(key, requirement, writing: .material(backing)) {
            (key: inout KeyRecord) throws(KMSError) in
            try ImportRules.requireExternal(key, call)
            if input.importType == .newKeyMaterial, key.keyMaterialID != nil {
                throw KMSError(
                    .unsupportedOperation,
                    "Importing new key material into a key that has had material is not supported yet")
            }
            if let previous = key.keyMaterialID, previous != materialID {
                throw KMSError(
                    .incorrectKeyMaterial,
                    "The key material is not the material previously imported into \(call.arn(key.id)).")
            }
            key.keyMaterialID = materialID
            key.expirationModel = model.rawValue
            key.validTo = validTo
            if key.state == .pendingImport { key.state = .enabled }
        }
        return ImportKeyMaterialResponse(keyId: call.arn(key.id), keyMaterialId: materialID)
    }

    /// AWS's rules of `ExpirationModel` and `ValidTo`: a ValidTo means the material expires (at most a
    /// year ahead, in the future); KEY_MATERIAL_DOES_NOT_EXPIRE takes none.
    static func expiry(
        _ input: ImportKeyMaterialRequest, now: Int64
    ) throws(KMSError) -> (ExpirationModelType, Int64?) {
        // A number far outside any date (1e300) must be refused, not converted: Int64(_:) would trap.
        let validTo: Int64?
        if let seconds = input.validTo {
            guard let whole = Int64(exactly: seconds.rounded(.down)) else {
                throw KMSError(.validation, "ValidTo must be in the future and at most 365 days away")
            }
            validTo = whole
        } else {
            validTo = nil
        }
        let model = input.expirationModel ?? (validTo == nil ? .keyMaterialDoesNotExpire : .keyMaterialExpires)
        switch (model, validTo) {
        case (.keyMaterialDoesNotExpire, nil): return (model, nil)
        case (.keyMaterialDoesNotExpire, _?):
            throw KMSError(.validation, "ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
        case (.keyMaterialExpires, nil):
            throw KMSError(.validation, "ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES")
        case (.keyMaterialExpires, let date?):
            guard date > now, date <= now + 365 * 86_400 else {
                throw KMSError(.validation, "ValidTo must be in the future and at most 365 days away")
            }
            return (model, date)
        }
    }
}
