import CofferCrypto
import CofferKMS
import CofferStore
import Foundation

/// `coffer dev`'s principals: its admin, and the credentials of a `credentials.json` it imports.
enum DevPrincipals {
    /// The admin's identity policy: every KMS action on every resource.
    static let adminPolicy =
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#

    /// Makes sure `user/admin` of `account` exists and has `key` (added beside its other keys when
    /// missing: dev mode's admin key comes back on every start, even after a `rotate-key admin`); the
    /// banner's credentials part, `AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… `.
    static func ensureAdmin(
        _ key: (id: String, secret: SecretBytes), account: String, in kms: KMSService
    ) async throws -> String {
        let arn = KMSService.principalARN(.user, name: "admin", account: account)
        let secret = key.secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        do throws(KMSError) {
            if try await kms.listPrincipals().contains(where: { $0.principal.arn == arn }) {
                // Sealed again on every start (replacing a key of the same id), so the printed secret is the
                // one that works even if the id was given before with another secret.
                _ = try await kms.rotateAccessKey(of: arn, keepingOld: true, accessKey: key)
            } else {
                _ = try await kms.addPrincipal(
                    name: "admin", kind: .user, account: account, policy: adminPolicy, accessKey: key)
            }
        } catch {
            throw CLIError("cannot set up the admin principal: \(error.message)")
        }
        return "AWS_ACCESS_KEY_ID=\(key.id) AWS_SECRET_ACCESS_KEY=\(secret) "
    }

    /// Adds every credential of `file` to the store: its principal (with its policy) when new, else the
    /// access key to the existing principal (replacing a key of the same id: the file's secret is the one
    /// that works). A principal given several different policies, a policy for the account root, or a
    /// policy other than an existing principal's is refused: importing must not change what anyone may do.
    static func importFile(_ file: CredentialsFile, into kms: KMSService) async throws {
        var policies: [String: String?] = [:]
        for entry in file.entries {
            guard let (kind, _) = parse(entry.principal) else {
                throw CLIError(
                    "credentials.json: \(entry.principal) is not the account root, a user or a role without a path")
            }
            if kind == .root, entry.policyText != nil {
                throw CLIError("credentials.json: the account root \(entry.principal) has no identity policy")
            }
            if let seen = policies[entry.principal], seen != entry.policyText {
                throw CLIError(
                    "credentials.json: \(entry.principal) is given several different policies; give it one")
            }
            policies[entry.principal] = entry.policyText
        }
        for entry in file.entries {
            guard let (kind, name) = parse(entry.principal) else { continue }
            do throws(KMSError) {
                let existing = try await kms.listPrincipals().first { $0.principal.arn == entry.principal }
                let key = (entry.accessKeyID, entry.secret)
                if let existing {
                    guard existing.principal.policy == entry.policyText else {
                        throw KMSError(
                            .validation, "\(entry.principal) exists with another identity policy; it is left as it is")
                    }
                    _ = try await kms.rotateAccessKey(of: entry.principal, keepingOld: true, accessKey: key)
                } else {
                    _ = try await kms.addPrincipal(
                        name: name, kind: kind, account: entry.account, policy: entry.policyText, accessKey: key)
                }
            } catch {
                throw CLIError("credentials.json: \(entry.accessKeyID): \(error.message)")
            }
        }
    }

    /// `arn:aws:iam::ACCOUNT:root`, `…:user/NAME`, `…:role/NAME` as a kind and a name.
    static func parse(_ arn: String) -> (PrincipalKind, String)? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam" else { return nil }
        let resource = parts[5].split(separator: "/", omittingEmptySubsequences: false)
        switch (resource.first, resource.count) {
        case ("root"?, 1): return (.root, "root")
        case ("user"?, 2): return (.user, String(resource[1]))
        case ("role"?, 2): return (.role, String(resource[1]))
        default: return nil
        }
    }
}
