import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Private keys at rest outside an HSM (operators' and hosts' signing keys only): PKCS#8 PEM files
/// created with mode 0600 (PROTOCOL §1, §3).
public enum KeyFile {
    /// Writes `key` as a new PKCS#8 PEM file with mode 0600. Refuses to overwrite an existing file.
    public static func write(_ key: P384.Signing.PrivateKey, to path: String) throws(CofferCryptoError) {
        try write(pem: key.pemRepresentation, to: path)
    }

    /// Writes an agreement key (only `coffer dev` keeps one on disk; see docs) as PKCS#8 PEM, mode 0600.
    public static func write(_ key: P384.KeyAgreement.PrivateKey, to path: String) throws(CofferCryptoError) {
        try write(pem: key.pemRepresentation, to: path)
    }

    /// Reads an agreement key written by ``write(_:to:)-(P384.KeyAgreement.PrivateKey,_)``.
    public static func readAgreementKey(from path: String) throws(CofferCryptoError) -> P384.KeyAgreement.PrivateKey {
        let signing = try readPEM(from: path)
        do {
            return try P384.KeyAgreement.PrivateKey(pemRepresentation: signing)
        } catch {
            throw CofferCryptoError(.invalidPrivateKey, "\(path) does not hold a P-384 private key in PEM form")
        }
    }

    private static func write(pem text: String, to path: String) throws(CofferCryptoError) {
        var pem = Array(text.utf8) + [0x0a]
        defer { pem.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CofferCryptoError(.keyFile, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The mode given to open is filtered by the umask; set it explicitly.
        guard fchmod(fd, 0o600) == 0 else {
            throw CofferCryptoError(.keyFile, "cannot set mode 0600 on \(path)")
        }
        let written = pem.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
        guard written == pem.count, fsync(fd) == 0 else {
            throw CofferCryptoError(.keyFile, "cannot write \(path)")
        }
    }

    /// Reads a P-384 signing key from a PKCS#8 (or SEC 1) PEM file. Refuses a file that group or
    /// others may read, as ssh does, so a leaked permission is noticed rather than silently used.
    public static func readSigningKey(from path: String) throws(CofferCryptoError) -> P384.Signing.PrivateKey {
        let text = try readPEM(from: path)
        do {
            return try P384.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw CofferCryptoError(.invalidPrivateKey, "\(path) does not hold a P-384 private key in PEM form")
        }
    }

    /// The PEM text of a private key file, refusing one that group or others may read.
    private static func readPEM(from path: String) throws(CofferCryptoError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CofferCryptoError(.keyFile, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CofferCryptoError(
                .keyFile,
                "\(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it"
            )
        }
        guard var data = FileManager.default.contents(atPath: path) else {
            throw CofferCryptoError(.keyFile, "cannot read \(path)")
        }
        defer { data.withUnsafeMutableBytes { SecretBytes.zeroize($0) } }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `write(2)` under a name that does not clash with ``KeyFile/write(_:to:)``.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
