import CofferCrypto
import CofferDomain
import CofferWire
import Crypto
import Foundation

/// Reading and writing the files the operator tools exchange: DER commands, tokens and identities;
/// PEM keys. Every failure is a `ValidationError`-style message that names the file.
enum CLIFiles {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read \(path)")
        }
        return Array(data)
    }

    /// Writes `bytes` to `path` (replacing it atomically).
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func decode<M: DERMessage>(_ type: M.Type, from path: String) throws -> M {
        do {
            return try M(derEncoded: try read(path))
        } catch let error as WireError {
            throw CLIError("\(path) is not a valid \(M.self): \(error)")
        }
    }

    /// An operator's or host's private key file (PKCS#8 PEM, mode 0600).
    static func signingKey(_ path: String) throws -> P384.Signing.PrivateKey {
        do {
            return try KeyFile.readSigningKey(from: path)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// A public key: a `.pub.pem` SPKI file written by `coffer operator keygen`, or a private key file.
    static func publicKey(_ path: String) throws -> P384PublicKey {
        let text = String(decoding: try read(path), as: UTF8.self)
        if text.contains("PUBLIC KEY") {
            guard let key = try? P384.Signing.PublicKey(pemRepresentation: text) else {
                throw CLIError("\(path) is not a P-384 public key")
            }
            return P384PublicKey(key)
        }
        return P384PublicKey(try signingKey(path).publicKey)
    }

    /// The public key PEM text of `key`.
    static func publicPEM(_ key: P384PublicKey) -> String {
        key.signingKey.pemRepresentation + "\n"
    }
}

/// A message for the operator, printed as `error: …` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The wall clock, read only at the edge (the cores take time as a parameter).
enum Clock {
    static var now: WireTime { WireTime.now }
}

/// JSON output for `--json`.
enum JSONOutput {
    static func print(_ value: Any) throws {
        let data = try JSONSerialization.data(
            withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
