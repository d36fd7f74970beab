import ArgumentParser
import CofferCrypto
import Crypto

/// `coffer operator …`: an operator's own key.
struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Manage an operator's signing key.", subcommands: [Keygen.self])

    /// `coffer operator keygen`.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate an operator signing key (P-384).",
            discussion: """
                Writes the private key as a PKCS#8 PEM file with mode 0600 (--out) and the public key next to it \
                (<out without .pem>.pub.pem), and prints the public key and its fingerprint. The private key never \
                needs to leave the operator's machine: commands are signed where the key is.
                """)

        @Option(help: "The operator's id in the domain (1–128 bytes).") var id: String
        @Option(help: "Where to write the private key (refuses to overwrite).") var out: String
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...128).contains(id.utf8.count) else { throw ValidationError("--id must be 1 … 128 bytes") }
        }

        func run() throws {
            let key = P384.Signing.PrivateKey()
            try KeyFile.write(key, to: out)
            let publicKey = P384PublicKey(key.publicKey)
            let publicPath = (out.hasSuffix(".pem") ? String(out.dropLast(4)) : out) + ".pub.pem"
            try CLIFiles.write(Array(CLIFiles.publicPEM(publicKey).utf8), to: publicPath)
            if json {
                try JSONOutput.print([
                    "id": id, "privateKeyFile": out, "publicKeyFile": publicPath, "fingerprint": publicKey.fingerprint,
                    "publicKeySPKI": Hex.encode(publicKey.spki),
                ])
            } else {
                print("operator \(id)")
                print("  private key  \(out) (mode 0600; keep it offline)")
                print("  public key   \(publicPath)")
                print("  fingerprint  \(publicKey.fingerprint)")
                print(CLIFiles.publicPEM(publicKey), terminator: "")
            }
        }
    }
}
