import CofferCrypto
import CofferPolicy
import CofferStore
import CofferWire
import Foundation

/// A principal's kind: the account root, an IAM user or an IAM role.
public enum PrincipalKind: String, Sendable, CaseIterable {
    case root
    case user
    case role
}

/// An access key as it is handed out, once: `coffer principals add` and `rotate-key` print it.
public struct IssuedAccessKey: Sendable {
    /// The principal's ARN.
    public let arn: String
    /// The access key id.
    public let accessKeyID: String
    /// The secret access key: never stored, only printed.
    public let secret: SecretBytes
}

/// A principal as `coffer principals list` shows it: never a secret.
public struct PrincipalListing: Sendable {
    /// The principal.
    public let principal: PrincipalRecord
    /// Its access key ids, oldest first.
    public let accessKeyIDs: [String]
}

/// Principals and their access keys (`coffer principals`), kept in the store with each secret sealed by
/// an HSM (``AccessKeySecrets``).
extension KMSService {
    /// The longest user or role name (IAM: 64 characters).
    public static let maximumPrincipalName = 64

    /// `arn:aws:iam::ACCOUNT:root`, `…:user/NAME` or `…:role/NAME`.
    public static func principalARN(_ kind: PrincipalKind, name: String, account: String) -> String {
        kind == .root ? "arn:aws:iam::\(account):root" : "arn:aws:iam::\(account):\(kind.rawValue)/\(name)"
    }

    /// Adds a principal with an access key (generated, or the given one), its secret sealed by an HSM.
    /// `validation` for a bad name, account or key; `malformedPolicy` for a policy that is not a valid
    /// identity policy; `alreadyExists` when the principal or the access key id exists.
    public func addPrincipal(
        name: String, kind: PrincipalKind, account: String, policy: String?,
        accessKey: (id: String, secret: SecretBytes)? = nil
    ) async throws(KMSError) -> IssuedAccessKey {
        guard account.utf8.count == 12, account.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw KMSError(.validation, "the account id must be 12 digits")
        }
        if kind == .root {
            guard policy == nil else {
                throw KMSError(
                    .validation, "the account root has no identity policy: it may do what key policies allow")
            }
        } else {
            // IAM's user and role names: [\w+=,.@-]{1,64}.
            guard (1...Self.maximumPrincipalName).contains(name.utf8.count),
                name.unicodeScalars.allSatisfy({
                    $0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                            || "_+=,.@-".unicodeScalars.contains($0))
                })
            else {
                throw KMSError(
                    .validation, "a \(kind.rawValue) name is 1 to 64 characters of letters, digits and _+=,.@-")
            }
        }
        if let policy { try Self.checkIdentityPolicy(policy) }
        let arn = Self.principalARN(kind, name: name, account: account)
        let issued = try await issue(accessKey, for: arn)
        let record = PrincipalRecord(
            arn: arn, account: account, name: kind == .root ? "root" : name, kind: kind.rawValue, policy: policy,
            creationDate: now)
        try await storeCall { () throws(StoreError) in try await store.addPrincipal(record, key: issued.record) }
        return issued.key
    }

    /// Every principal with its access key ids.
    public func listPrincipals() async throws(KMSError) -> [PrincipalListing] {
        var listings: [PrincipalListing] = []
        for principal in try await storeCall({ () throws(StoreError) in try await store.principals() }) {
            let keys = try await storeCall { () throws(StoreError) in try await store.accessKeys(of: principal.arn) }
            listings.append(PrincipalListing(principal: principal, accessKeyIDs: keys.map(\.accessKeyID)))
        }
        return listings
    }

    /// Removes a principal and its access keys: they stop working within
    /// ``PrincipalDirectory/refreshInterval`` on every host.
    public func removePrincipal(_ arn: String) async throws(KMSError) {
        try await storeCall { () throws(StoreError) in try await store.removePrincipal(arn) }
    }

    /// Gives a principal a new access key (generated, or the given one); the ones it had are removed
    /// unless `keepingOld` (a kept key with the given id is replaced: its secret is the given one now).
    public func rotateAccessKey(
        of arn: String, keepingOld: Bool = false, accessKey: (id: String, secret: SecretBytes)? = nil
    ) async throws(KMSError) -> IssuedAccessKey {
        let issued = try await issue(accessKey, for: arn)
        let id = issued.key.accessKeyID
        try await storeCall { () throws(StoreError) in
            try await store.replaceAccessKeys(of: arn, adding: issued.record, removing: keepingOld ? [id] : nil)
        }
        return issued.key
    }

    /// A valid identity policy, or `malformedPolicy` saying why not.
    public static func checkIdentityPolicy(_ text: String) throws(KMSError) {
        let document: PolicyDocument
        do {
            document = try PolicyDocument(json: text, kind: .identityPolicy)
        } catch {
            throw KMSError(.malformedPolicy, error.message)
        }
        if let problem = SupportedConditionKeys.problem(in: document) { throw KMSError(.malformedPolicy, problem) }
    }

    /// A new (or the given) access key of `arn` with its secret sealed by an HSM.
    private func issue(
        _ given: (id: String, secret: SecretBytes)?, for arn: String
    ) async throws(KMSError) -> (key: IssuedAccessKey, record: AccessKeyRecord) {
        let (id, secret) = given ?? AccessKeySecrets.generate()
        guard AccessKeySecrets.isAccessKeyID(id) else {
            throw KMSError(.validation, "an access key id is 1 to 128 letters, digits or underscores")
        }
        guard AccessKeySecrets.isSecret(secret) else {
            throw KMSError(.validation, "a secret access key is 1 to 128 printable ASCII characters without spaces")
        }
        guard
            case .token(let token) = try await hsmCall(
                .sealAccessKey(binding: AccessKeySecrets.binding(accessKeyID: id, principal: arn), secret: secret))
        else { throw KMSError(.internal, "the HSM did not seal the secret access key") }
        return (
            IssuedAccessKey(arn: arn, accessKeyID: id, secret: secret),
            AccessKeyRecord(accessKeyID: id, principalARN: arn, token: token.derBytes, creationDate: now)
        )
    }
}
