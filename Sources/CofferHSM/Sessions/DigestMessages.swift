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

    /// The digest of type `D` whose bytes are `bytes`.
    static func make<D: Digest>(_ type: D.Type, from bytes: UnsafeRawBufferPointer) throws(Failure) -> D {
        guard _isPOD(D.self), MemoryLayout<D>.size == D.byteCount, bytes.count == D.byteCount,
            let source = bytes.baseAddress
        else { throw Failure(.internal, "cannot make a \(D.self) from bytes") }
        let digest = withUnsafeTemporaryAllocation(of: D.self, capacity: 1) { buffer in
            let target = buffer.baseAddress!
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: D.byteCount)
            return target.move()
        }
        guard digest.elementsEqual(bytes) else {
            throw Failure(.internal, "cannot make a \(D.self) from bytes")
        }
        return digest
    }
}
