import CCofferSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating system's CSPRNG (PROTOCOL §1, `Random`), read from the kernel a block at a time.
///
/// Every `getrandom` call costs about 2 µs of kernel time however few bytes it returns (the kernel sets up a
/// fresh ChaCha state per call), and the hot paths draw many small values: one GenerateDataKey in the HSM
/// takes the data key, the blob's nonce and two GCM IVs, and the host a request id and an audit id per call.
/// This reads ``blockSize`` bytes per call into a pool and hands them out in order. No bytes are derived or
/// stretched here: every byte handed out is a byte the kernel returned, given out once and zeroed in the pool
/// as it leaves, so the pool only ever holds bytes no caller has seen yet.
///
/// The pool is its own anonymous mapping, marked `MADV_WIPEONFORK` (a child made by `fork` without `exec`
/// starts with an empty pool, so parent and child never hand out the same bytes) and `MADV_DONTDUMP` (not in
/// a core file). Where the kernel refuses `MADV_WIPEONFORK` (Linux before 4.14, other systems), there is no
/// pool and every draw is its own kernel call. If the kernel cannot give random bytes at all, the process
/// stops, as Swift's own generator does, rather than return predictable bytes.
public enum SystemEntropy {
    /// Bytes read from the kernel per refill; a draw this large or larger goes to the kernel directly.
    public static let blockSize = 4096

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        guard buffer.count < blockSize, let pool else { return kernelFill(buffer) }
        pool.take(into: buffer)
    }

    /// `count` random bytes that are not secret (IVs, nonces, ids); secrets use ``SecretBytes/random(count:)``.
    public static func bytes(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Whether draws come from the pool (false: the kernel refused wipe-on-fork, every draw is a kernel call).
    public static var isPooled: Bool { pool != nil }

    /// The pool's unspent bytes and how many of them remain, for tests: every byte before the remaining
    /// ones must be zero.
    package static func withPool<R>(_ body: (_ block: UnsafeRawBufferPointer, _ remaining: Int) -> R) -> R? {
        guard let pool else { return nil }
        return pool.lock.withLock { _ in body(UnsafeRawBufferPointer(pool.block), pool.remaining) }
    }

    private static let pool = Pool()

    private static func kernelFill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard coffer_getrandom(buffer.baseAddress, buffer.count) == 0 else {
            fatalError("the kernel gave no random bytes (getrandom failed: errno \(errno))")
        }
    }

    /// One mapping: a header word (the count of unspent bytes at the end of the block) and the block. Both
    /// are zero in a forked child, which therefore refills before its first draw. `@unchecked Sendable`: the
    /// mapping is read and written only while `lock` is held.
    private final class Pool: @unchecked Sendable {
        let lock = Mutex(())
        let mapping: UnsafeMutableRawPointer
        let block: UnsafeMutableRawBufferPointer

        init?() {
            let size = MemoryLayout<Int>.stride + SystemEntropy.blockSize
            #if os(Linux)
            guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                mapped != MAP_FAILED
            else { return nil }
            guard madvise(mapped, size, MADV_WIPEONFORK) == 0 else {
                munmap(mapped, size)
                return nil
            }
            _ = madvise(mapped, size, MADV_DONTDUMP)
            mapping = mapped
            block = UnsafeMutableRawBufferPointer(
                start: mapped + MemoryLayout<Int>.stride, count: SystemEntropy.blockSize)
            #else
            return nil
            #endif
        }

        /// Unspent bytes, at the end of the block.
        var remaining: Int {
            get { mapping.load(as: Int.self) }
            set { mapping.storeBytes(of: newValue, as: Int.self) }
        }

        func take(into buffer: UnsafeMutableRawBufferPointer) {
            lock.withLock { _ in takeLocked(into: buffer) }
        }

        private func takeLocked(into buffer: UnsafeMutableRawBufferPointer) {
            var offset = 0
            while offset < buffer.count {
                if remaining == 0 {
                    SystemEntropy.kernelFill(block)
                    remaining = block.count
                }
                let start = block.count - remaining
                let count = min(remaining, buffer.count - offset)
                let source = UnsafeMutableRawBufferPointer(rebasing: block[start..<(start + count)])
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(source))
                SecretBytes.zeroize(source)
                remaining -= count
                offset += count
            }
        }
    }
}
