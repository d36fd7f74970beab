import ArgumentParser
import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferWire

extension HSMCommandGroup {
    /// `coffer hsm check-session`.
    struct CheckSession: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-session",
            abstract: "As a service host, open a session on one HSM and use it on others.",
            discussion: """
                Negotiates a session with the first --hsm (mutually authenticated ECDHE, PROTOCOL §7), then sends \
                requests under that session to every --hsm: random bytes, a new backing key, and an \
                encrypt/decrypt round trip. Any member of the domain serves a session another member accepted. \
                The host's key and id must be in the domain (domain.modifyHosts); --token is the domain's current \
                token, whose state the host trusts.
                """)

        @Option(help: "The host's id in the domain.") var hostID: String
        @Option(help: "The host's private key file.") var hostKey: String
        @Option(help: "The domain's current token.") var token: String
        @Option(help: "HSM addresses; the session is opened on the first (repeat).") var hsm: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let state = try CLIFiles.decode(DomainToken.self, from: token).state
            let key = try CLIFiles.signingKey(hostKey)
            let addresses = try hsm.map { text in
                guard let address = HSMAddress(text) else {
                    throw ValidationError("--hsm \(text): expected HOST:PORT or unix:/path")
                }
                return address
            }
            guard let first = addresses.first else { throw ValidationError("at least one --hsm") }
            // The pool's first handshake goes to the first HSM (all are idle; ties go to the first).
            let pool = HSMPool(addresses: addresses, hostID: hostID, hostKey: key, domain: state, clock: { Clock.now })
            let onFirst = try await pool.onlyOn(first)
            guard
                case .token(let backing) = try await onFirst(
                    .createBackingKey(
                        keyID: SystemEntropy.bytes(count: 16),
                        backingKeyID: SystemEntropy.bytes(count: 16), spec: "AES_256"))
            else { throw CLIError("createBackingKey did not return a token") }
            let acceptedBy = await pool.sessionHSM ?? "?"
            if !json { print("session accepted by \(acceptedBy) (on \(first))") }
            var results: [[String: Any]] = []
            for address in addresses {
                let single = try await pool.onlyOn(address)
                let context = try EncryptionContext(["check": "session"])
                let message = SecretBytes(copying: Array("coffer session check".utf8))
                guard case .random(let random) = try await single(.generateRandom(length: 32)), random.count == 32,
                    case .ciphertext(let blob) = try await single(
                        .encrypt(key: backing, plaintext: message, context: context)),
                    case .plaintext(_, let opened) = try await single(
                        .decrypt(key: backing, ciphertext: blob, context: context)),
                    opened == message
                else { throw CLIError("\(address) did not serve the session correctly") }
                results.append(["hsm": address.description, "served": true])
                if !json { print("\(address): served the session (random bytes, encrypt/decrypt round trip)") }
            }
            await pool.close()
            if json { try JSONOutput.print(["acceptedBy": acceptedBy, "results": results]) }
        }
    }
}
