import CofferCrypto
import CofferKMS
import CofferPolicy
import CofferServer
import Foundation

/// A credentials file (`coffer host --credentials`, and the `credentials.json` that `coffer dev` imports
/// into its store): `{"credentials": [{"accessKeyId", "secretAccessKey", "accountId"?, "principal"?,
/// "sessionToken"?, "policy"?}]}`. A credential without an account belongs to the default account, one
/// without a principal is the account root; `policy` is the principal's identity policy (an object or
/// its JSON text).
struct CredentialsFile {
    struct Entry {
        let accessKeyID: String
        let secret: SecretBytes
        let sessionToken: String?
        let account: String
        let principal: String
        let policyText: String?
        let policy: PolicyDocument?
    }

    let entries: [Entry]

    /// Reads and checks `path` (a warning when others may read it).
    init(_ path: String, defaultAccount: String) throws {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            FileHandleOutput.standardError(
                "warning: \(path) is readable by group or others; it holds secret access keys")
        }
        let data = Data(try CLIFiles.read(path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["credentials"] as? [[String: Any]]
        else { throw CLIError("\(path): expected {\"credentials\": [{\"accessKeyId\": …, \"secretAccessKey\": …}]}") }
        entries = try list.map { entry in
            guard let id = entry["accessKeyId"] as? String, let secret = entry["secretAccessKey"] as? String else {
                throw CLIError("\(path): every credential has accessKeyId and secretAccessKey")
            }
            let account = entry["accountId"] as? String ?? defaultAccount
            guard HostServe.isAccountID(account) else {
                throw CLIError("\(path): accountId of \(id) is not 12 digits")
            }
            let principal = entry["principal"] as? String ?? "arn:aws:iam::\(account):root"
            let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 6, parts[4] == account else {
                throw CLIError("\(path): the principal \(principal) is not of the account \(account)")
            }
            var policyText: String?
            var document: PolicyDocument?
            if let policy = entry["policy"] {
                if let string = policy as? String {
                    policyText = string
                } else if JSONSerialization.isValidJSONObject(policy),
                    let json = try? JSONSerialization.data(withJSONObject: policy)
                {
                    policyText = String(decoding: json, as: UTF8.self)
                } else {
                    throw CLIError("\(path): the policy of \(principal) is not a JSON object")
                }
                do throws(KMSError) {
                    try KMSService.checkIdentityPolicy(policyText ?? "")
                } catch {
                    throw CLIError("\(path): the policy of \(principal) is not valid: \(error.message)")
                }
                document = try? PolicyDocument(json: policyText ?? "", kind: .identityPolicy)
            }
            return Entry(
                accessKeyID: id, secret: SecretBytes(copying: Array(secret.utf8)),
                sessionToken: entry["sessionToken"] as? String, account: account, principal: principal,
                policyText: policyText, policy: document)
        }
    }

    /// The credentials for a verifier, by access key id; a principal's policies are those of all its
    /// entries.
    var verifierCredentials: [String: SigV4Verifier.Credentials] {
        var policies: [String: [PolicyDocument]] = [:]
        for entry in entries { if let policy = entry.policy { policies[entry.principal, default: []].append(policy) } }
        var out: [String: SigV4Verifier.Credentials] = [:]
        for entry in entries {
            out[entry.accessKeyID] = .init(
                secret: entry.secret, sessionToken: entry.sessionToken, account: entry.account,
                principal: entry.principal, identityPolicies: policies[entry.principal] ?? [])
        }
        return out
    }
}
