import CofferCrypto

/// A session message's AAD, `label ‖ H(DER(ekt)) ‖ uint64be(requestID)` (PROTOCOL §7), built in one buffer:
/// both ends build it for every request and every response.
enum SessionAAD {
    /// The AAD of a request (`label` ``Label/request``) or a response (``Label/response``). `requestID` is
    /// within ``WireLimits/requestIDRange`` (the decoders refuse any other, and the host allocates from it);
    /// a negative one stops the process, as its conversion to `UInt64` traps.
    static func bytes(_ label: Label, ektDigest: [UInt8], requestID: Int64) -> [UInt8] {
        var aad: [UInt8] = []
        aad.reserveCapacity(label.bytes.count + ektDigest.count + 8)
        aad += label.bytes
        aad += ektDigest
        aad += BigEndianOctets(UInt64(requestID), count: 8)
        return aad
    }
}
