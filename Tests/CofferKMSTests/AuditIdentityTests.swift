import Testing

@testable import CofferKMS

@Suite struct AuditIdentityTests {
    /// CloudTrail's `userIdentity.type` of each kind of principal.
    @Test func eachPrincipalHasItsIdentityType() {
        let account = "111122223333"
        #expect(StoreAudit.identityType("arn:aws:iam::111122223333:root", account: account) == "Root")
        #expect(StoreAudit.identityType("arn:aws:iam::444455556666:root", account: account) == "IAMUser")
        #expect(
            StoreAudit.identityType("arn:aws:sts::111122223333:assumed-role/Admin/alice", account: account)
                == "AssumedRole")
        #expect(StoreAudit.identityType("arn:aws:iam::111122223333:role/Admin", account: account) == "AWSRole")
        #expect(StoreAudit.identityType("arn:aws:iam::111122223333:user/alice", account: account) == "IAMUser")
        #expect(StoreAudit.identityType("arn:aws:iam::111122223333:user/role/x", account: account) == "IAMUser")
        #expect(StoreAudit.identityType("arn:aws:iam::111122223333:user/x:role/", account: account) == "AWSRole")
    }

    /// Only `arn:aws:iam::ACCOUNT:root` itself is the account's root, compared without building it.
    @Test(arguments: [
        ("arn:aws:iam::111122223333:root", true), ("arn:aws:iam::111122223333:rootx", false),
        ("arn:aws:iam::1111222233333:root", false), ("arn:aws:iam::11112222333:root", false),
        ("arn:aws:iam::111122223334:root", false), ("xarn:aws:iam::111122223333:root", false),
        ("arn:aws:iam::111122223333:Root", false), ("arn:aws:iam::111122223333:", false), ("", false),
        ("arn:aws:iam::111122223333:root:root", false), ("arn:aws:iam:::111122223333root", false),
        ("arn:aws:iaX::111122223333:root", false), ("arn:aws:iam::111122223333:roox", false),
    ])
    func onlyTheAccountsRootArnIsRoot(_ principal: String, _ root: Bool) {
        #expect(StoreAudit.isRoot(principal, account: "111122223333") == root)
        #expect(
            StoreAudit.isRoot(principal, account: "111122223333") == (principal == "arn:aws:iam::111122223333:root"))
    }

    /// The byte-wise `contains` agrees with a search at every index, on every placement and none.
    @Test func containsAgreesWithASearchAtEveryIndex() {
        let parts = ["", "a", "ab", ":role/", "é", "ß"]
        let texts = ["", "a", "b", "ab", "ba", "aab", "abab", "x:role/", ":role/y", ":rol", "é", "eé", "ßa", "ss"]
        for text in texts {
            for part in parts {
                let expected = part.isEmpty || text.utf8.indices.contains { text.utf8[$0...].starts(with: part.utf8) }
                #expect(StoreAudit.contains(text, part) == expected, "\(text) contains \(part)")
            }
        }
    }
}
