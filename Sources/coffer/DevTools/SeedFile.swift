import CofferCrypto
import CofferJSON
import CofferKMS
import CofferStore
import Foundation
import Yams

/// `coffer dev --seed FILE`: the keys a test pipeline expects to find, as YAML (docs/testing-with-coffer.md).
///
///     keys:
///       - id: 0b8d6c1e-2f4a-4c55-9d0e-6a1f3e2b7c90   # or leave it out: derived from the first alias
///         region: eu-west-1                         # default: --region
///         account: "111122223333"                   # default: --account-id
///         description: payment tokens
///         keySpec: SYMMETRIC_DEFAULT
///         aliases: [alias/payments]
///         tags: {team: payments}
///         rotationPeriodInDays: 180                 # turns automatic rotation on
///         enabled: true
///       - aliases: [alias/webhooks]
///         keySpec: HMAC_256
///         keyUsage: GENERATE_VERIFY_MAC
///         keyMaterial: 3q2+7w...                    # base64 of the key (or a PKCS#8 PEM for RSA, ECC, Ed25519, ML-DSA):
///                                                   # imported through GetParametersForImport's wrapping
///
/// Every member is checked: an unknown one (a typo) is an error, not silently ignored.
enum SeedFile {
    static let keyMembers: Set<String> = [
        "id", "region", "account", "description", "keySpec", "keyUsage", "aliases", "tags", "rotationPeriodInDays",
        "enabled", "keyMaterial",
    ]

    static func read(_ path: String, defaultScope: KeyScope) throws -> [KeySeed] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let document: Any?
        do {
            document = try Yams.load(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError("\(path) is not YAML: \(error)")
        }
        guard let root = document as? [String: Any], Set(root.keys).isSubset(of: ["keys"]) else {
            throw CLIError("\(path): expected a mapping with one member, keys")
        }
        guard let list = root["keys"] as? [Any] else { throw CLIError("\(path): keys is a list of keys") }
        return try list.enumerated().map { index, item in
            try key(item, defaultScope: defaultScope, where: "\(path): keys[\(index)]")
        }
    }

    private static func key(_ item: Any, defaultScope: KeyScope, where place: String) throws -> KeySeed {
        guard let entry = item as? [String: Any] else { throw CLIError("\(place) is not a mapping") }
        let unknown = Set(entry.keys).subtracting(keyMembers)
        guard unknown.isEmpty else {
            throw CLIError("\(place): unknown member \(unknown.sorted().joined(separator: ", "))")
        }
        func string(_ name: String) throws -> String? {
            guard let value = entry[name] else { return nil }
            guard let text = value as? String else { throw CLIError("\(place).\(name) is not a string") }
            return text
        }
        var scope = defaultScope
        if let region = try string("region") { scope.region = region }
        if let account = entry["account"] {
            // YAML reads an unquoted 000000000000 as a number (even octal): only a quoted string is exact.
            guard let text = account as? String, HostServe.isAccountID(text) else {
                throw CLIError("\(place).account is 12 digits in quotes, e.g. \"111122223333\"")
            }
            scope.account = text
        }
        let aliases: [String]
        switch entry["aliases"] {
        case nil: aliases = []
        case let single as String: aliases = [single]
        case let many as [String]: aliases = many
        default: throw CLIError("\(place).aliases is a list of alias names")
        }
        var tags: [TagRecord] = []
        if let value = entry["tags"] {
            guard let map = value as? [String: Any] else { throw CLIError("\(place).tags is a mapping") }
            tags = map.keys.sorted().map { TagRecord(key: $0, value: "\(map[$0] ?? "")") }
        }
        var rotation: Int?
        if let value = entry["rotationPeriodInDays"] {
            guard let days = value as? Int else { throw CLIError("\(place).rotationPeriodInDays is a number") }
            rotation = days
        }
        var enabled = true
        if let value = entry["enabled"] {
            guard let flag = value as? Bool else { throw CLIError("\(place).enabled is true or false") }
            enabled = flag
        }
        var material: SecretBytes?
        if let text = try string("keyMaterial") {
            guard let bytes = Self.material(text) else {
                throw CLIError("\(place).keyMaterial is base64, or a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)")
            }
            material = bytes
        }
        let seed = KeySeed(
            id: try string("id"), scope: scope, description: try string("description") ?? "",
            keySpec: try string("keySpec") ?? "SYMMETRIC_DEFAULT", keyUsage: try string("keyUsage"), aliases: aliases,
            tags: tags, rotationPeriodInDays: rotation, enabled: enabled, keyMaterial: material)
        do {
            try seed.validate()
        } catch {
            throw CLIError("\(place): \(error.message)")
        }
        return seed
    }

    /// Key material as a seed file gives it: a PKCS#8 PEM, or base64 (white space ignored).
    static func material(_ text: String) -> SecretBytes? {
        var body = text
        let begin = "-----BEGIN PRIVATE KEY-----"
        let end = "-----END PRIVATE KEY-----"
        if let start = text.range(of: begin), let stop = text.range(of: end), start.upperBound <= stop.lowerBound {
            body = String(text[start.upperBound..<stop.lowerBound])
        }
        let compact = body.filter { !$0.isWhitespace }
        guard var bytes = Base64.decode(compact.utf8), !bytes.isEmpty else { return nil }
        return SecretBytes(consuming: &bytes)
    }
}
