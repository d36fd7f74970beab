import Benchmark
import CofferKMS
import CofferPolicy
import CofferStore

/// What authorizing one GenerateDataKey costs a host (issue 10's goal: under 5 % of the request): the
/// policy authorizer with the key policy parsed once and cached, as every request after the first sees
/// it. Compare with "Session request round trip: GenerateDataKey 32 bytes".
let authorizationBenchmarks: @Sendable () -> Void = {
    let account = "111122223333"
    let alice = "arn:aws:iam::111122223333:user/alice"
    let defaultPolicy =
        #"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#
    let tenantPolicy =
        #"{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"kms:*","Resource":"*"},{"Sid":"TenantA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}}]}"#
    let identity = try! PolicyDocument(
        json: #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#, kind: .identityPolicy)
    let authorizer = PolicyAuthorizer(clock: { 1_800_000_000 })
    let context = RequestContext(
        account: account, region: "us-east-1", principal: alice, accessKeyID: "AKIDBENCH", requestID: "bench",
        sourceAddress: "127.0.0.1", identityPolicies: [identity])
    var conditions = RequestConditions()
    conditions.keys = ["kms:encryptioncontext:tenant": ["a"], "kms:encryptioncontextkeys": ["tenant"]]
    conditions.encryptionContext = ["tenant": "a"]
    for (name, policy) in [("the default key policy, delegated to an identity policy", defaultPolicy), ("a key policy with a condition", tenantPolicy)] {
        let key = KeyRecord(
            scope: KeyScope(account: account, region: "us-east-1"), id: "1234abcd-12ab-34cd-56ef-1234567890ab",
            description: "", keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT", state: .enabled,
            creationDate: 1_800_000_000, policy: policy)
        let input = AuthorizationInput(action: "kms:GenerateDataKey", key: key, context: context, conditions: conditions)
        // A thousand decisions per sample: one alone would measure the benchmark's own task switch.
        Benchmark("Authorize GenerateDataKey: \(name)", configuration: .init(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try! await authorizer.authorize(input))
            }
        }
    }
}
