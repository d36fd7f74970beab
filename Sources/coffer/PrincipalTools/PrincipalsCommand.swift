import ArgumentParser
import CofferCrypto
import CofferKMS
import CofferStore
import CofferWire
import Foundation

/// `coffer principals`: the principals and access keys of a store (docs/access-control.md, "Principals").
struct PrincipalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "principals",
        abstract: "Add, list, remove principals and rotate their access keys, in a host's or coffer dev's store.",
        discussion: """
            A principal is the account root, a user or a role, with access keys and an optional identity \
            policy (IAM JSON). A new access key's secret is printed once and then kept only by the domain's \
            HSMs (sealed like a key's material): the store holds the sealed token, and hosts ask an HSM for \
            each day's SigV4 key. Changes take effect on running hosts at once for new keys and within \
            \(PrincipalDirectory.refreshInterval) seconds for removed ones.

            With --data-dir (default ./.coffer) the command works on coffer dev's store, opening the dev \
            domain with the dev HSM's keys as coffer dev does (it may be running). With --store it works on \
            a host's store through the domain's HSMs, as that host: give --hsm, --host-id, --host-key and \
            --genesis as for coffer host.
            """,
        subcommands: [Add.self, List.self, Remove.self, RotateKey.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a principal with a new access key; print the key (the secret only this once).")
        @Argument(help: "The user or role name (`root` with --root).") var name: String
        @Flag(help: "A role (arn:aws:iam::ACCOUNT:role/NAME) instead of a user.") var role = false
        @Flag(help: "The account root (arn:aws:iam::ACCOUNT:root), which needs no identity policy.") var root = false
        @Option(help: "An identity policy file (IAM JSON).") var policy: String?
        @Option(help: "The principal's account (default: the store's only account, else 000000000000).")
        var accountId: String?
        @Flag(help: "Print {\"Arn\", \"AccessKeyId\", \"SecretAccessKey\"} as JSON.") var json = false
        @OptionGroup var access: StoreAccess

        func validate() throws {
            guard !(role && root) else { throw ValidationError("--role and --root exclude each other") }
        }

        func run() async throws {
            let text = try policy.map { String(decoding: try CLIFiles.read($0), as: UTF8.self) }
            let kind: PrincipalKind = root ? .root : role ? .role : .user
            try await access.withService { kms in
                var account = accountId
                if account == nil { account = try await PrincipalsCommand.defaultAccount(kms) }
                let key = AccessKeySecrets.generate()
                let arn = KMSService.principalARN(kind, name: name, account: account ?? "")
                let issued = try await PrincipalsCommand.audited(
                    "AddPrincipal", ["principal": arn, "accessKeyId": key.id, "identityPolicy": text != nil]
                ) {
                    try await kms.addPrincipal(
                        name: name, kind: kind, account: account ?? "", policy: text, accessKey: key)
                }
                try PrincipalsCommand.print(issued, json: json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List principals and their access key ids.")
        @Flag(help: "Print JSON: [{\"Arn\", \"Kind\", \"AccessKeyIds\", \"Policy\"}].") var json = false
        @OptionGroup var access: StoreAccess

        func run() async throws {
            try await access.withStore { kms in
                let listings = try await kms.listPrincipals()
                if json {
                    try JSONOutput.print(
                        listings.map { listing -> [String: Any] in
                            var object: [String: Any] = [
                                "Arn": listing.principal.arn, "Kind": listing.principal.kind,
                                "AccessKeyIds": listing.accessKeyIDs, "CreationDate": listing.principal.creationDate,
                            ]
                            object["Policy"] = listing.principal.policy
                            return object
                        })
                } else {
                    for listing in listings {
                        let policy = listing.principal.policy == nil ? "" : "  (identity policy)"
                        Swift.print(
                            "\(listing.principal.arn)  \(listing.accessKeyIDs.joined(separator: ","))\(policy)")
                    }
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a principal and its access keys (running hosts stop accepting them within seconds).")
        @Argument(help: "The principal's ARN, or a user or role name.") var principal: String
        @OptionGroup var access: StoreAccess

        func run() async throws {
            try await access.withStore { kms in
                let arn = try await PrincipalsCommand.resolve(principal, kms)
                try await PrincipalsCommand.audited("RemovePrincipal", ["principal": arn]) {
                    try await kms.removePrincipal(arn)
                }
                Swift.print("removed \(arn)")
            }
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Give a principal a new access key and remove its old ones; print the new key once.")
        @Argument(help: "The principal's ARN, or a user or role name.") var principal: String
        @Flag(help: "Keep the old access keys too (remove them later with another rotate-key).") var keepOld = false
        @Flag(help: "Print {\"Arn\", \"AccessKeyId\", \"SecretAccessKey\"} as JSON.") var json = false
        @OptionGroup var access: StoreAccess

        func run() async throws {
            try await access.withService { kms in
                let arn = try await PrincipalsCommand.resolve(principal, kms)
                let key = AccessKeySecrets.generate()
                let issued = try await PrincipalsCommand.audited(
                    "RotateAccessKey", ["principal": arn, "accessKeyId": key.id, "keepOld": keepOld]
                ) {
                    try await kms.rotateAccessKey(of: arn, keepingOld: keepOld, accessKey: key)
                }
                try PrincipalsCommand.print(issued, json: json)
            }
        }
    }

    /// Runs `change` with its audit record pending, so the store writes the record in the change's own
    /// transaction (docs/access-control.md, "The audit log"): who ran the command (the local user), what
    /// it changed, never a secret.
    static func audited<T: Sendable>(
        _ event: String, _ parameters: [String: any Sendable], _ change: () async throws -> T
    ) async throws -> T {
        let time = Clock.now.secondsSinceEpoch
        let eventID = RandomUUID.lowercased()
        let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        let record: [String: Any] = [
            "eventVersion": "1.08", "eventSource": "coffer.principals", "eventName": event,
            "eventTime": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(time))),
            "eventID": eventID, "eventType": "CofferAdministrativeEvent", "readOnly": false,
            "userIdentity": ["type": "LocalAdministrator", "userName": user],
            "requestParameters": parameters,
        ]
        let text = String(
            decoding: try JSONSerialization.data(
                withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self)
        let pending = PendingAudit(
            AuditEntry(time: time, eventID: eventID, keyARN: nil, operation: event, record: text))
        return try await PendingAudit.$current.withValue(pending) { try await change() }
    }

    static func print(_ issued: IssuedAccessKey, json: Bool) throws {
        let secret = issued.secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        if json {
            try JSONOutput.print(["Arn": issued.arn, "AccessKeyId": issued.accessKeyID, "SecretAccessKey": secret])
        } else {
            Swift.print("principal: \(issued.arn)")
            Swift.print("export AWS_ACCESS_KEY_ID=\(issued.accessKeyID) AWS_SECRET_ACCESS_KEY=\(secret)")
        }
    }

    /// The account of every principal in the store when there is one, else 000000000000.
    static func defaultAccount(_ kms: KMSService) async throws -> String {
        let accounts = Set(try await kms.listPrincipals().map(\.principal.account))
        guard accounts.count <= 1 else {
            throw CLIError("the store has principals of several accounts: say which with --account-id")
        }
        return accounts.first ?? "000000000000"
    }

    /// An ARN as it is, or the one principal whose user or role name is `name`.
    static func resolve(_ name: String, _ kms: KMSService) async throws -> String {
        if name.hasPrefix("arn:") { return name }
        let matches = try await kms.listPrincipals().map(\.principal).filter { $0.name == name }
        guard matches.count == 1, let match = matches.first else {
            throw CLIError(
                matches.isEmpty
                    ? "no principal is named \(name)"
                    : "several principals are named \(name): give the ARN (\(matches.map(\.arn).joined(separator: ", ")))"
            )
        }
        return match.arn
    }
}
