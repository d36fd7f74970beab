/// IAM's wildcard match: `*` matches any run of characters (also none), `?` any one character; every
/// other character matches itself. Iterative with backtracking over the last `*` only, so a pattern of
/// many stars costs O(n·m) at worst, never exponential time.
enum Wildcard {
    /// Whether `text` matches `pattern`; `caseInsensitive` folds both to lower case first (actions).
    static func matches(_ pattern: String, _ text: String, caseInsensitive: Bool = false) -> Bool {
        // Fast paths for the forms policies use most: "*", a literal, a literal prefix and "*".
        if pattern == "*" { return true }
        if !caseInsensitive {
            let stars = pattern.utf8.lazy.filter { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }
            var iterator = stars.makeIterator()
            if iterator.next() == nil { return pattern == text }
            if pattern.utf8.last == UInt8(ascii: "*"), iterator.next() == nil {
                return text.utf8.starts(with: pattern.utf8.dropLast())
            }
        }
        let p = Array((caseInsensitive ? pattern.lowercased() : pattern).unicodeScalars)
        let t = Array((caseInsensitive ? text.lowercased() : text).unicodeScalars)
        var pi = 0
        var ti = 0
        var star: Int?
        var resume = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                resume = ti
                pi += 1
            } else if let star {
                pi = star + 1
                resume += 1
                ti = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// ArnLike / ArnEquals: the six colon-separated parts of an ARN matched part by part (the last part
    /// keeps its colons), each with wildcards; fewer than six parts never match.
    static func matchesARN(_ pattern: String, _ arn: String) -> Bool {
        let p = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let a = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard p.count == 6, a.count == 6 else { return false }
        return zip(p, a).allSatisfy { matches(String($0), String($1)) }
    }
}
