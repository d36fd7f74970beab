import CofferCrypto
import Crypto
import Foundation
import Testing

@Suite struct KeyFileTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("coffer-key-\(UUID().uuidString).pem").path
    }

    @Test func writtenKeyIsPKCS8WithMode0600AndReadsBack() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = P384.Signing.PrivateKey()
        try KeyFile.write(key, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try KeyFile.readSigningKey(from: path).publicKey.rawRepresentation == key.publicKey.rawRepresentation)
    }

    @Test func writeRefusesToOverwrite() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KeyFile.write(P384.Signing.PrivateKey(), to: path)
        #expect(throws: CofferCryptoError(.keyFile)) { try KeyFile.write(P384.Signing.PrivateKey(), to: path) }
    }

    @Test func readRefusesAFileOthersCanRead() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KeyFile.write(P384.Signing.PrivateKey(), to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: CofferCryptoError(.keyFile)) { try KeyFile.readSigningKey(from: path) }
    }

    @Test func readRefusesAFileThatIsNotAKey() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("not a key".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: CofferCryptoError(.invalidPrivateKey)) { try KeyFile.readSigningKey(from: path) }
    }
}
