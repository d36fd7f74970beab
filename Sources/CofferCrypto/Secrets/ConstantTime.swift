/// Comparisons whose running time does not depend on where two byte strings differ.
public enum ConstantTime {
    /// `true` when `a` and `b` hold the same bytes. The time depends only on the lengths.
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }

    /// `true` when the two collections hold the same bytes; see ``equals(_:_:)-(UnsafeRawBufferPointer,_)``.
    /// Contiguous collections (arrays, native strings' UTF-8, slices of them) are compared where they are;
    /// others are copied first.
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let inPlace = a.withContiguousStorageIfAvailable { left in
            b.withContiguousStorageIfAvailable { right in
                equals(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right))
            }
        }
        if let inPlace, let result = inPlace { return result }
        let left = Array(a)
        let right = Array(b)
        return left.withUnsafeBytes { l in right.withUnsafeBytes { r in equals(l, r) } }
    }
}
