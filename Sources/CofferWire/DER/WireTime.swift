import SwiftASN1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time as PROTOCOL §2 encodes it: GeneralizedTime, UTC, whole seconds, exactly
/// `YYYYMMDDHHMMSSZ`. Fractional seconds, offsets, local times and impossible dates are refused.
public struct WireTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let secondsSinceEpoch: Int64

    /// The earliest and latest instants the 4-digit year can express.
    public static let representable: ClosedRange<Int64> =
        Self.seconds(
            year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0)...Self.seconds(
            year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)

    /// The wall clock in whole seconds. Only the shells (servers, the CLI) read it; the cores take the
    /// time as a parameter so that they stay deterministic under test.
    public static var now: WireTime { WireTime(secondsSinceEpoch: Int64(time(nil))) }

    /// A time from Unix seconds (clamped to the representable years).
    public init(secondsSinceEpoch: Int64) {
        self.secondsSinceEpoch = min(
            max(secondsSinceEpoch, Self.representable.lowerBound), Self.representable.upperBound)
    }

    /// Parses `YYYYMMDDHHMMSSZ`.
    public init?(generalizedTime text: some Collection<UInt8>) {
        let c = Array(text)
        guard c.count == 15, c[14] == UInt8(ascii: "Z"), c[0..<14].allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int { c[range].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        let (year, month, day) = (number(0..<4), number(4..<6), number(6..<8))
        let (hour, minute, second) = (number(8..<10), number(10..<12), number(12..<14))
        guard year >= 1, (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        secondsSinceEpoch = Self.seconds(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    init(
        node: ASN1Node, _ what: @autoclosure () -> String, identifier: ASN1Identifier = .generalizedTime
    ) throws(WireError) {
        let content = try DERReader.primitive(node, what(), identifier)
        guard let time = WireTime(generalizedTime: content) else {
            throw WireError(.badTime, "\(what()): not a valid YYYYMMDDHHMMSSZ")
        }
        self = time
    }

    /// The GeneralizedTime content octets.
    public var generalizedTimeBytes: [UInt8] { Array(description.utf8) }

    /// `YYYYMMDDHHMMSSZ`.
    public var description: String {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let rest = Int(secondsSinceEpoch - days * 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + pad(rest / 3600, 2) + pad(rest / 60 % 60, 2)
            + pad(rest % 60, 2) + "Z"
    }

    /// This time plus `seconds`.
    public func adding(seconds: Int64) -> WireTime {
        WireTime(secondsSinceEpoch: secondsSinceEpoch + seconds)
    }

    public static func < (lhs: WireTime, rhs: WireTime) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    // Howard Hinnant's days-from-civil and civil-from-days, proleptic Gregorian calendar.
    private static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
