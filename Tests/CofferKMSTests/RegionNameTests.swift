import Testing

@testable import CofferKMS

/// The region grammar, `^([a-z]+-){2,3}\d+$`, at each of its edges.
@Suite struct RegionNameTests {
    @Test(arguments: ["us-east-1", "us-gov-west-1", "eu-central-12", "a-b-0", "ap-southeast-4"])
    func regionNamesAreAccepted(region: String) {
        #expect(RegionName.isValid(region))
    }

    @Test(arguments: [
        "", "-", "1", "us-1", "us-east", "us-east-", "-us-east-1", "us--east-1", "us-east--1", "a-b-c-d-1",
        "US-east-1", "us-East-1", "us-east-1a", "us-east-a", "us-east-1-", "us_east-1", "us-east-1 ", " us-east-1",
        "us-east-1.", "us-ëast-1", "us-east-١", "us-east-¹", "us-east-{", "us-east-/", "us-east-:", "us-`-1",
    ])
    func everythingElseIsRefused(region: String) {
        #expect(!RegionName.isValid(region))
    }
}
