import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Secret key material that is zeroized when its last copy is released (CONVENTIONS.md, Secrets).
///
/// The bytes live in one heap allocation that Swift never copies or moves; the only access is
/// ``withUnsafeBytes(_:)``. Printing shows `<redacted>`, and equality is constant-time.
///
/// Known weakness: bytes that reached a `SecretBytes` through a temporary `[UInt8]` (for example a
/// DER encoder's buffer) leave whatever copies that temporary's growth made in freed heap memory.
/// Call sites wipe the temporaries they own (``SecretBytes/init(consuming:)``).
public struct SecretBytes: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let storage: Storage

    /// Creates `count` bytes and lets `body` fill them in place.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let storage = Storage(count: count)
        try body(storage.buffer)
        self.storage = storage
    }

    /// Copies `bytes` into a new secret. The caller still owns (and should wipe) `bytes`.
    public init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { buffer in
            // One copy when the bytes are contiguous (arrays, buffers, Data); byte by byte otherwise.
            let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(source))
            }
            if copied == nil { _ = buffer.initializeMemory(as: UInt8.self, from: bytes) }
        }
    }

    /// Copies `bytes` into a new secret and then overwrites the array's storage with zeros.
    public init(consuming bytes: inout [UInt8]) {
        self.init(copying: bytes)
        bytes.withUnsafeMutableBytes { SecretBytes.zeroize($0) }
        bytes.removeAll()
    }

    /// Copies the bytes of a swift-crypto key (for serializing it into a sealed structure).
    public init(_ key: SymmetricKey) {
        self = key.withUnsafeBytes { SecretBytes(copying: $0) }
    }

    /// `count` bytes from the operating system's CSPRNG (PROTOCOL §1, `Random`), written in place.
    public static func random(count: Int) -> SecretBytes {
        SecretBytes(count: count) { SystemEntropy.fill($0) }
    }

    /// The number of bytes.
    public var count: Int { storage.buffer.count }

    /// Calls `body` with a read-only view of the bytes; the pointer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage.buffer))
    }

    /// A swift-crypto key holding a copy of these bytes.
    public var symmetricKey: SymmetricKey {
        withUnsafeBytes { SymmetricKey(data: $0) }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "SecretBytes(<redacted>, \(count) bytes)" }

    /// Overwrites `buffer` with zeros in a way the optimizer may not elide.
    public static func zeroize(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Glibc) || canImport(Musl)
        explicit_bzero(base, buffer.count)
        #else
        memset_s(base, buffer.count, 0, buffer.count)
        #endif
    }

    /// Zero-filled storage, wiped and freed on release. `@unchecked Sendable`: the buffer is written
    /// only inside `SecretBytes.init` and wiped only in `deinit`, when no other reference exists.
    private final class Storage: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer

        init(count: Int) {
            precondition(count >= 0, "a negative byte count is a programming error")
            if count == 0 {
                buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            } else {
                buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
                SecretBytes.zeroize(buffer)
            }
        }

        deinit {
            SecretBytes.zeroize(buffer)
            if buffer.baseAddress != nil { buffer.deallocate() }
        }
    }
}

extension SecretBytes: Equatable {
    /// Constant-time in the contents; the lengths are not secret.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}
