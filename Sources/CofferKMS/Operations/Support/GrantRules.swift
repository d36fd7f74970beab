import CofferCrypto
import CofferPolicy
import CofferStore
import Foundation

/// What the grant operations share: grant ids and tokens, which operations a key's grants may allow, and
/// the conversions between stored grants, AWS's shapes and the evaluator's rules.
enum GrantRules {
    /// The most grants one key holds (AWS's quota: 50,000 per key; Coffer reads them at once).
    static let perKey = 10_000
    /// The largest page ListGrants and ListRetirableGrants answer (AWS's 100).
    static let pageLimit = 100

    /// The operations that take an encryption context: the only ones a grant with constraints may allow.
    static let contextOperations: Set<GrantOperation> = [
        .encrypt, .decrypt, .reEncryptFrom, .reEncryptTo, .generateDataKey, .generateDataKeyWithoutPlaintext,
        .generateDataKeyPair, .generateDataKeyPairWithoutPlaintext, .createGrant, .retireGrant,
    ]

    /// The operations a grant on `key` may allow, by its spec and usage (AWS: "Grant operations").
    static func allowed(for key: KeyRecord) -> Set<GrantOperation> {
        let common: Set<GrantOperation> = [.createGrant, .retireGrant, .describeKey]
        let symmetric = key.keySpec == KeySpec.symmetricDefault.rawValue
        switch KeyUsageType(rawValue: key.keyUsage) {
        case .encryptDecrypt?:
            return common.union(
                symmetric
                    ? [
                        .encrypt, .decrypt, .reEncryptFrom, .reEncryptTo, .generateDataKey,
                        .generateDataKeyWithoutPlaintext, .generateDataKeyPair, .generateDataKeyPairWithoutPlaintext,
                    ] : [.encrypt, .decrypt, .reEncryptFrom, .reEncryptTo, .getPublicKey])
        case .signVerify?: return common.union([.sign, .verify, .getPublicKey])
        case .generateVerifyMac?: return common.union([.generateMac, .verifyMac])
        case .keyAgreement?: return common.union([.deriveSharedSecret, .getPublicKey])
        case nil: return common
        }
    }

    /// A new grant id: 64 hex digits.
    static func newID() -> String { Hex.encode(SystemEntropy.bytes(count: 32)) }

    /// Whether `text` has the form of a grant id.
    static func isGrantID(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { $0.isASCII && $0.isHexDigit }
    }

    /// Whether a grant of `operations` under `constraints` stays within `parent`'s terms: no operation it
    /// lacks, and a context constraint at least as strict.
    static func within(_ parent: GrantRecord, operations: [GrantOperation], constraints: GrantConstraints?) -> Bool {
        guard Set(operations.map(\.rawValue)).isSubset(of: Set(parent.operations)) else { return false }
        let equals = stored(constraints?.encryptionContextEquals)
        let subset = stored(constraints?.encryptionContextSubset)
        if let required = parent.contextEquals {
            return equals.map { Set($0) == Set(required) } ?? false
        }
        if let required = parent.contextSubset {
            let given = Set(equals ?? subset ?? [])
            return Set(required).isSubset(of: given)
        }
        return true
    }

    /// A page marker of the grant listings is the last grant id shown (InvalidMarkerException otherwise).
    static func checkMarker(_ marker: String?) throws(KMSError) {
        if let marker, !isGrantID(marker) { throw KMSError(.invalidMarker, "Invalid marker: \(marker)") }
    }

    /// A grant token: it names the grant (tokens are references, not secrets; Coffer's grants take
    /// effect at once, so a token is never needed to use one).
    static func token(_ grant: GrantRecord) -> String {
        let text = ["coffer-grant-v1", grant.scope.account, grant.scope.region, grant.keyID, grant.grantID]
            .joined(separator: ":")
        return Data(text.utf8).base64EncodedString()
    }

    /// The grant a token names; nil when it is not a Coffer grant token.
    static func reference(_ token: String) -> (scope: KeyScope, keyID: String, grantID: String)? {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "coffer-grant-v1", isGrantID(parts[4]) else { return nil }
        return (KeyScope(account: parts[1], region: parts[2]), parts[3], parts[4])
    }

    /// The evaluator's view of a stored grant.
    static func rule(_ grant: GrantRecord) -> GrantRule {
        GrantRule(
            id: grant.grantID, grantee: grant.grantee, operations: Set(grant.operations),
            contextEquals: grant.contextEquals.map(dictionary), contextSubset: grant.contextSubset.map(dictionary))
    }

    /// ListGrants' entry of a stored grant.
    static func entry(_ grant: GrantRecord) -> GrantListEntry {
        GrantListEntry(
            keyId: KMSService.keyARN(grant.keyID, in: grant.scope), grantId: grant.grantID, name: grant.name,
            creationDate: Double(grant.creationDate), granteePrincipal: grant.grantee,
            retiringPrincipal: grant.retiringPrincipal, issuingAccount: "arn:aws:iam::\(grant.scope.account):root",
            operations: grant.operations.compactMap(GrantOperation.init(rawValue:)),
            constraints: constraints(grant))
    }

    static func constraints(_ grant: GrantRecord) -> GrantConstraints? {
        guard grant.contextEquals != nil || grant.contextSubset != nil else { return nil }
        return GrantConstraints(
            encryptionContextSubset: grant.contextSubset.map(pairs),
            encryptionContextEquals: grant.contextEquals.map(pairs))
    }

    static func stored(_ pairs: StringPairs?) -> [[String]]? { pairs.map { $0.pairs.map { [$0.key, $0.value] } } }

    private static func dictionary(_ pairs: [[String]]) -> [String: String] {
        Dictionary(pairs.filter { $0.count == 2 }.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
    }

    private static func pairs(_ stored: [[String]]) -> StringPairs {
        StringPairs(stored.filter { $0.count == 2 }.map { (key: $0[0], value: $0[1]) })
    }
}
