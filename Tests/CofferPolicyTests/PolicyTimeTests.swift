import CofferPolicy
import Foundation
import Testing

/// ISO 8601 without Foundation's formatters, checked against Foundation's.
@Suite struct PolicyTimeTests {
    @Test func formatsAsFoundationDoes() {
        let formatter = ISO8601DateFormatter()
        for seconds: Int64 in [0, 1, 59, 86_399, 86_400, 951_782_400, 1_796_292_000, 4_102_444_799, 253_402_300_799] {
            #expect(
                PolicyTime.iso8601(seconds)
                    == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))), "\(seconds)")
        }
        #expect(PolicyTime.iso8601(1_796_292_000) == "2026-12-03T10:00:00Z")
    }

    @Test func parsesTheFormsPoliciesUse() {
        #expect(PolicyTime.seconds("2026-12-03T10:00:00Z") == 1_796_292_000)
        #expect(PolicyTime.seconds("2026-12-03T11:00:00+01:00") == 1_796_292_000)
        #expect(PolicyTime.seconds("2026-12-03T09:30:00-00:30") == 1_796_292_000)
        #expect(PolicyTime.seconds("2026-12-03T10:00:00.250Z") == 1_796_292_000.25)
        #expect(PolicyTime.seconds("2026-12-03") == 1_796_256_000)
        #expect(PolicyTime.seconds("1796292000") == 1_796_292_000)
        for bad in ["", "2026-13-01", "2026-12-03T10:00:00", "2026-12-03T25:00:00Z", "2026-12-03T10:00:00+0100", "x"] {
            #expect(PolicyTime.seconds(bad) == nil, "\(bad)")
        }
    }
}
