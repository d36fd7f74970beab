import CofferCrypto
import CofferPolicy
import Crypto
import Foundation

/// Verifies AWS Signature Version 4 on incoming requests (header form and query-string form), as the
/// KMS endpoint of AWS does: the credential scope names this service, the date is within 15 minutes,
/// the body matches its hash, and the signature matches the one computed with the caller's secret.
public struct SigV4Verifier: Sendable {
    /// A caller's key, who the caller is, and, for temporary credentials, the session token it must
    /// send.
    public struct Credentials: Sendable {
        /// What the signature is checked with.
        public enum Key: Sendable {
            /// The secret access key itself (a credentials file).
            case secret(SecretBytes)
            /// The day's key `kDate = HMAC("AWS4" + secret, day)` for the day the lookup was asked for:
            /// a principal of the store, whose secret only an HSM holds.
            case dateKey(SecretBytes)
        }

        /// What the signature is checked with.
        public let key: Key
        /// The session token, if these are temporary credentials.
        public let sessionToken: String?
        /// The 12-digit account the caller belongs to: the only account whose keys it sees.
        public let account: String
        /// The caller's principal ARN.
        public let principal: String
        /// The caller's identity policies (IAM policies attached to its principal).
        public let identityPolicies: [PolicyDocument]

        /// Builds credentials of `account` from the secret access key; the principal defaults to the
        /// account's root.
        public init(
            secret: SecretBytes, sessionToken: String? = nil, account: String, principal: String? = nil,
            identityPolicies: [PolicyDocument] = []
        ) {
            self.init(
                key: .secret(secret), sessionToken: sessionToken, account: account, principal: principal,
                identityPolicies: identityPolicies)
        }

        /// Builds credentials from a key.
        public init(
            key: Key, sessionToken: String? = nil, account: String, principal: String? = nil,
            identityPolicies: [PolicyDocument] = []
        ) {
            self.key = key
            self.sessionToken = sessionToken
            self.account = account
            self.principal = principal ?? "arn:aws:iam::\(account):root"
            self.identityPolicies = identityPolicies
        }
    }

    /// Who signed a verified request.
    public struct Identity: Sendable {
        /// The access key id.
        public let accessKeyID: String
        /// The caller's account.
        public let account: String
        /// The caller's principal ARN.
        public let principal: String
        /// The region of the credential scope (KMS answers with ARNs in it).
        public let region: String
        /// The signed header names.
        public let signedHeaders: [String]
        /// The caller's identity policies.
        public let identityPolicies: [PolicyDocument]
    }

    /// Finds the credentials of an access key id for a day (`yyyyMMdd`, the credential scope's):
    /// nil for an unknown key; `unavailable` when the lookup itself failed.
    public typealias Lookup = @Sendable (_ accessKeyID: String, _ day: String) async throws(SigV4Error) -> Credentials?

    /// The most a request's date may differ from the server's clock, in seconds (AWS: 15 minutes).
    public static let maximumSkew: Int64 = 900
    /// The longest a query-string signature may be valid (AWS: 7 days).
    public static let maximumExpiry: Int64 = 604_800

    private let service: String
    private let lookup: Lookup
    private let fixed: (@Sendable (String) -> Credentials?)?
    /// Signing keys of verified requests (internal for tests).
    let signingKeys = SigningKeyCache()

    /// A verifier for `service` (`kms`) looking callers up with `lookup` (a store, an HSM).
    public init(service: String, lookup: @escaping Lookup) {
        self.service = service
        self.lookup = lookup
        self.fixed = nil
    }

    /// A verifier for `service` (`kms`) of fixed credentials, looked up with `credentials`.
    public init(service: String, credentials: @escaping @Sendable (String) -> Credentials?) {
        self.service = service
        self.lookup = { id, _ in credentials(id) }
        self.fixed = credentials
    }

    /// Verifies `request` at `now` (seconds since 1970), looking its caller up.
    public func authenticate(_ request: SigV4Request, now: Int64) async throws(SigV4Error) -> Identity {
        let signed = try parse(request, now: now)
        let caller = try await lookup(signed.accessKeyID, signed.day)
        return try check(signed, request, caller)
    }

    /// Verifies `request` at `now` (seconds since 1970) against fixed credentials
    /// (``init(service:credentials:)``); a verifier with a ``Lookup`` knows no caller here.
    public func verify(_ request: SigV4Request, now: Int64) throws(SigV4Error) -> Identity {
        let signed = try parse(request, now: now)
        return try check(signed, request, fixed?(signed.accessKeyID))
    }

    /// What a request claims, checked for form, scope and time before any caller is looked up.
    private struct Signed {
        let parameters: Parameters
        let scope: [String]
        var accessKeyID: String { scope[0] }
        var day: String { scope[1] }
        var region: String { scope[2] }
        var service: String { scope[3] }
        /// `day/region/service/aws4_request`: the credential after its access key id, the four parts `parse`
        /// checked, with the same slashes (sliced, not joined again).
        var credentialScope: Substring {
            let credential = parameters.credential
            return credential.firstIndex(of: "/").map { credential[credential.index(after: $0)...] } ?? ""
        }
    }

    private func parse(_ request: SigV4Request, now: Int64) throws(SigV4Error) -> Signed {
        let parameters = try Self.parameters(request)
        guard parameters.algorithm == SigV4.algorithm else {
            throw SigV4Error(.incompleteSignature, "Unsupported signing algorithm; expected \(SigV4.algorithm)")
        }
        let scope = parameters.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty else {
            throw SigV4Error(.incompleteSignature, "Credential must be AccessKeyId/date/region/service/aws4_request")
        }
        let (day, region, scopeService) = (scope[1], scope[2], scope[3])
        guard let date = Self.parseDate(parameters.date) else {
            throw SigV4Error(.incompleteSignature, "X-Amz-Date must be yyyyMMdd'T'HHmmss'Z'")
        }
        guard parameters.date.hasPrefix(day), day.count == 8 else {
            throw SigV4Error(.invalidSignature, "Credential should be scoped to a valid date: \(day)")
        }
        guard scopeService == service else {
            throw SigV4Error(.invalidSignature, "Credential should be scoped to correct service: '\(service)'")
        }
        guard !region.isEmpty else { throw SigV4Error(.invalidSignature, "Credential should be scoped to a region") }
        guard parameters.signedHeaders.contains("host") else {
            throw SigV4Error(.incompleteSignature, "SignedHeaders must include host")
        }
        // Sorted and unique: each name after the one before it.
        guard zip(parameters.signedHeaders, parameters.signedHeaders.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SigV4Error(.incompleteSignature, "SignedHeaders must be sorted and unique")
        }
        guard abs(now - date) <= Self.maximumSkew else {
            throw SigV4Error(
                .invalidSignature, "Signature expired: \(parameters.date) is not within 15 minutes of the server time")
        }
        if let expires = parameters.expires {
            guard expires >= 1, expires <= Self.maximumExpiry, now <= date + expires else {
                throw SigV4Error(.invalidSignature, "Signature expired (X-Amz-Expires)")
            }
        }
        return Signed(parameters: parameters, scope: scope)
    }

    private func check(
        _ signed: Signed, _ request: SigV4Request, _ caller: Credentials?
    ) throws(SigV4Error) -> Identity {
        let parameters = signed.parameters
        guard let caller else {
            throw SigV4Error(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        let tokens = request.values("x-amz-security-token") + Self.queryValues(request.query, "X-Amz-Security-Token")
        switch (caller.sessionToken, tokens.first) {
        case (nil, nil): break
        case (let expected?, let sent?)
        where tokens.count == 1 && ConstantTime.equals(expected.utf8, sent.utf8):
            guard parameters.isQuery || parameters.signedHeaders.contains("x-amz-security-token") else {
                throw SigV4Error(.incompleteSignature, "X-Amz-Security-Token must be signed")
            }
        default:
            throw SigV4Error(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        let bodyHash = SigV4.payloadHash(request.body)
        for declared in request.values("x-amz-content-sha256") where declared.lowercased() != bodyHash {
            throw SigV4Error(.invalidSignature, "The body does not match x-amz-content-sha256")
        }
        let canonical = SigV4.canonicalRequestBytes(
            request, signedHeaders: parameters.signedHeaders, payloadHash: bodyHash,
            excludingQueryKey: parameters.isQuery ? "X-Amz-Signature" : nil)
        let stringToSign = SigV4.stringToSignBytes(
            canonicalRequest: canonical, date: parameters.date, scope: String(signed.credentialScope))
        let place = SigningKeyCache.Place(
            accessKeyID: signed.accessKeyID, day: signed.day, region: signed.region, service: signed.service,
            fromDayKey: caller.key.isDayKey)
        let kept = signingKeys.signer(for: place, source: caller.key.bytes)
        let signer =
            kept
            ?? SigningKeyCache.Signer(
                key: caller.key.signingKey(day: signed.day, region: signed.region, service: signed.service))
        let expected = signer.signature(stringToSign)
        guard ConstantTime.equals(expected.utf8, parameters.signature.lowercased().utf8) else {
            throw SigV4Error(
                .invalidSignature,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            )
        }
        // Kept only now that a request signed with it verified (see SigningKeyCache).
        if kept == nil { signingKeys.keep(signer, derivedFrom: caller.key.bytes, for: place) }
        return Identity(
            accessKeyID: signed.accessKeyID, account: caller.account, principal: caller.principal,
            region: signed.region, signedHeaders: parameters.signedHeaders, identityPolicies: caller.identityPolicies)
    }

    // MARK: Parsing

    private struct Parameters {
        let algorithm: String
        let credential: String
        let signedHeaders: [String]
        let signature: String
        let date: String
        let expires: Int64?
        let isQuery: Bool
    }

    private static func parameters(_ request: SigV4Request) throws(SigV4Error) -> Parameters {
        let authorization = request.values("authorization")
        if authorization.count > 1 { throw SigV4Error(.incompleteSignature, "More than one Authorization header") }
        if let header = authorization.first.map({ String(SigV4.trimmingSpacesAndTabs($0)) }) {
            guard let space = header.firstIndex(of: " ") else {
                throw SigV4Error(
                    .incompleteSignature, "Authorization header requires Credential, SignedHeaders and Signature")
            }
            // `name=value` parts split at commas and at their first `=`, on the UTF-8 bytes (every separator
            // is ASCII); a part without both a name and a value is skipped, and a later part of the same name
            // wins.
            var credential: Substring?
            var signed: Substring?
            var signature: Substring?
            for part in header[header.index(after: space)...].utf8.split(separator: UInt8(ascii: ",")) {
                let field = SigV4.trimmingSpacesAndTabs(Substring(part))
                guard let equals = field.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let name = Substring(field.utf8[..<equals])
                let value = Substring(field.utf8[field.utf8.index(after: equals)...])
                guard !name.isEmpty, !value.isEmpty else { continue }
                switch name {
                case "Credential": credential = value
                case "SignedHeaders": signed = value
                case "Signature": signature = value
                default: continue
                }
            }
            guard let credential, let signed, let signature else {
                throw SigV4Error(
                    .incompleteSignature,
                    "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
            }
            let dates = request.values("x-amz-date").map { String(SigV4.trimmingSpacesAndTabs($0)) }
            guard dates.count == 1, let date = dates.first else {
                throw SigV4Error(
                    .incompleteSignature, "Authorization header requires existence of a valid X-Amz-Date header")
            }
            return Parameters(
                algorithm: String(header[..<space]), credential: String(credential),
                signedHeaders: signed.utf8.split(separator: UInt8(ascii: ";")).map { Substring($0).lowercased() },
                signature: String(signature), date: date, expires: nil, isQuery: false)
        }
        let query = request.query
        guard let algorithm = queryValues(query, "X-Amz-Algorithm").first else {
            throw SigV4Error(.missingAuthenticationToken, "Missing Authentication Token")
        }
        guard let credential = queryValues(query, "X-Amz-Credential").first,
            let signed = queryValues(query, "X-Amz-SignedHeaders").first,
            let signature = queryValues(query, "X-Amz-Signature").first,
            let date = queryValues(query, "X-Amz-Date").first
        else {
            throw SigV4Error(
                .incompleteSignature,
                "Query-string authentication requires X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature and X-Amz-Date"
            )
        }
        let expires = queryValues(query, "X-Amz-Expires").first.map { Int64($0) ?? -1 }
        return Parameters(
            algorithm: algorithm, credential: credential,
            signedHeaders: signed.split(separator: ";").map { $0.lowercased() },
            signature: signature, date: date, expires: expires, isQuery: true)
    }

    static func queryValues(_ query: String, _ key: String) -> [String] {
        query.split(separator: "&").compactMap { item in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard SigV4.percentDecode(String(pair[0])) == key else { return nil }
            return SigV4.percentDecode(pair.count > 1 ? String(pair[1]) : "")
        }
    }

    /// `yyyyMMdd'T'HHmmss'Z'` as seconds since 1970.
    static func parseDate(_ text: String) -> Int64? {
        guard text.utf8.count == 16 else { return nil }
        // `yyyyMMdd` `HHmmss` `Z`, the `T` left out: GeneralizedTime's form, in one buffer.
        var generalized: [UInt8] = []
        generalized.reserveCapacity(15)
        for (index, byte) in text.utf8.enumerated() {
            switch index {
            case 8: guard byte == UInt8(ascii: "T") else { return nil }
            case 15:
                guard byte == UInt8(ascii: "Z") else { return nil }
                generalized.append(byte)
            default: generalized.append(byte)
            }
        }
        return CofferSigV4Time.seconds(generalized)
    }
}

extension SigV4Verifier.Credentials.Key {
    /// The secret or day key itself.
    var bytes: SecretBytes {
        switch self {
        case .secret(let bytes), .dateKey(let bytes): bytes
        }
    }

    var isDayKey: Bool {
        if case .dateKey = self { return true }
        return false
    }

    /// `kSigning` for a credential scope of `day` (the day a day key was derived for).
    func signingKey(day: String, region: String, service: String) -> SymmetricKey {
        switch self {
        case .secret(let secret): SigV4.signingKey(secret: secret, day: day, region: region, service: service)
        case .dateKey(let dateKey): SigV4.signingKey(dateKey: dateKey, region: region, service: service)
        }
    }
}
