import CofferWire

/// Dates in SigV4's basic ISO 8601 form, through the strict GeneralizedTime parser.
enum CofferSigV4Time {
    /// `YYYYMMDDHHMMSSZ` as seconds since 1970, or nil.
    static func seconds(_ generalized: [UInt8]) -> Int64? {
        WireTime(generalizedTime: generalized)?.secondsSinceEpoch
    }
}
