import Testing

@testable import CofferKMS
@testable import CofferStore

/// What a store failure tells the caller (AWS's error, nothing of the database) and the server's log (why).
@Suite struct StoreFailureTests {
    @Test(arguments: [
        (StoreError.Code.unavailable, "DependencyTimeoutException"), (.database, "KMSInternalException"),
        (.outcomeUnknown, "KMSInternalException"),
    ])
    func aFailedStoreIsLoggedWithItsCauseAndAnsweredWithout(_ code: StoreError.Code, _ name: String) {
        let error = KMSService.storeFailure(StoreError(code, "connection to 10.0.0.7:5432 reset"))
        #expect(error.code.awsName == name)
        #expect(!error.message.contains("10.0.0.7"))
        #expect(error.cause?.contains("connection to 10.0.0.7:5432 reset") == true)
        #expect(error.cause?.contains("\(code)") == true)
    }

    @Test func theCauseIsNotPartOfTheErrorsIdentity() {
        let one = KMSError(.dependencyTimeout, "try again", cause: "timeout")
        let other = KMSError(.dependencyTimeout, "try again", cause: "reset")
        #expect(one == other)
        #expect(Set([one, other]).count == 1)
        #expect(one != KMSError(.dependencyTimeout, "try later"))
    }
}
