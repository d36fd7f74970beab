import CofferCrypto
import CofferWire
import Crypto

/// What a signing key signs for a message of `MessageType` RAW (the hash of the message) or DIGEST (the
/// caller's hash, of exactly the algorithm's hash length: `invalidArgument` otherwise), as swift-crypto's
/// own digest type.
///
/// swift-crypto's RSA signs a digest only as one of its own digest types (it takes the hash algorithm
/// from the type) and those have no public initializer from bytes. A DIGEST message becomes one by
/// copying its bytes into the type's storage: the check here requires a trivial type (no references) of
/// exactly `byteCount` bytes, and the value made is read back and compared with the bytes, so a future
/// swift-crypto with another layout is an `internal` failure, never a signature over other bytes
/// (`DigestMessageTests` checks the round trip for every hash).
enum DigestMessage {
    static func digest<H: HashFunction>(
        _ hash: H.Type, _ message: SecretBytes, _ type: SessionCommand.MessageType
    ) throws(Failure) -> H.Digest {
        switch type {
        case .raw:
            return message.withUnsafeBytes { H.hash(data: $0) }
        case .digest:
            guard message.count == H.Digest.byteCount else {
                throw Failure(.invalidArgument, "a DIGEST message must be \(H.Digest.byteCount) bytes")
            }
            let made = message.withUnsafeBytes { bytes in
                Result { () throws(Failure) in try make(H.Digest.self, from: bytes) }
            }
            return try made.get()
        }
    }

    /// The digest of type `D` whose bytes are `bytes`: a digest of `D` (of no message) whose storage is
    /// overwritten with them, then read back and compared.
    static func make<D: Digest>(_ type: D.Type, from bytes: UnsafeRawBufferPointer) throws(Failure) -> D {
        guard _isPOD(D.self), MemoryLayout<D>.size == D.byteCount, bytes.count == D.byteCount else {
            throw Failure(.internal, "cannot make a \(D.self) from bytes")
        }
        guard var digest = empty(D.self) else { throw Failure(.internal, "\(D.self) is not a digest of this build") }
        withUnsafeMutableBytes(of: &digest) { $0.copyMemory(from: bytes) }
        guard digest.elementsEqual(bytes) else { throw Failure(.internal, "cannot make a \(D.self) from bytes") }
        return digest
    }

    /// A value of `D`: the digest of no bytes, for the hash functions whose digests signing keys take.
    private static func empty<D: Digest>(_ type: D.Type) -> D? {
        if let digest = SHA256.hash(data: [UInt8]()) as? D { return digest }
        if let digest = SHA384.hash(data: [UInt8]()) as? D { return digest }
        return SHA512.hash(data: [UInt8]()) as? D
    }
}
