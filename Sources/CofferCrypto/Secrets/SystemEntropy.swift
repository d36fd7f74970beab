import CCofferSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating system's CSPRNG (PROTOCOL §1, `Random`): one `getrandom` call per draw, written straight
/// into the caller's buffer.
///
/// There is deliberately no pool of bytes kept for later draws, though a `getrandom` call costs about 2 µs
/// however few bytes it returns: a process whose memory is snapshotted and restored twice (a cloned virtual
/// machine, Firecracker snapshots) would hand out the same pooled bytes in both copies — the same GCM IVs
/// and DEK nonces under the same keys. The kernel reseeds its own generator when a virtual machine is
/// cloned; bytes already drawn into user space cannot be. Hot paths save calls instead by drawing what one
/// operation needs at once (a blob's nonce and IV together). If the kernel cannot give random bytes, the
/// process stops, as Swift's own generator does, rather than return predictable bytes.
public enum SystemEntropy {
    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        guard coffer_getrandom(buffer.baseAddress, buffer.count) == 0 else {
            fatalError("the kernel gave no random bytes (getrandom failed: errno \(errno))")
        }
    }

    /// `count` random bytes that are not secret (IVs, nonces, ids); secrets use ``SecretBytes/random(count:)``.
    public static func bytes(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}
