/// ISO 8601 times as policies and audit records write them, without Foundation's formatters (which cost
/// tens of microseconds to make, on every request): UTC `YYYY-MM-DDTHH:MM:SSZ` out; in, that form with
/// optional fractional seconds and a `Z` or `±HH:MM` offset, a bare `YYYY-MM-DD`, or seconds since 1970.
public enum PolicyTime {
    /// `seconds` since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func iso8601(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(yearText)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }

    /// Seconds since 1970 of `text`, or nil when it is none of the accepted forms.
    public static func seconds(_ text: String) -> Double? {
        if let number = Double(text) { return number }
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == 0x2D, bytes[7] == 0x2D, let year = digits(0..<4),
            let month = digits(5..<7), let day = digits(8..<10), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var total = Double(days(fromYear: year, month: month, day: day) * 86_400)
        if bytes.count == 10 { return total }
        guard bytes.count >= 20, bytes[10] == 0x54 || bytes[10] == 0x74, bytes[13] == 0x3A, bytes[16] == 0x3A,
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19), hour < 24,
            minute < 60, second < 61
        else { return nil }
        total += Double(hour * 3600 + minute * 60 + second)
        var index = 19
        if bytes[index] == 0x2E {
            index += 1
            var fraction = 0.0
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            total += fraction
        }
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case 0x5A, 0x7A: return index + 1 == bytes.count ? total : nil
        case 0x2B, 0x2D:
            guard bytes.count == index + 6, bytes[index + 3] == 0x3A, let hours = digits(index + 1..<index + 3),
                let minutes = digits(index + 4..<index + 6)
            else { return nil }
            let offset = Double(hours * 3600 + minutes * 60)
            return bytes[index] == 0x2B ? total - offset : total + offset
        default: return nil
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01 (civil_from_days).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
