import CofferJSON
import CofferPolicy
import CofferStore
import CofferWire
import Foundation

/// Rules several operations share beyond the model's constraints: list paging, encryption contexts,
/// tags, key policies and alias names, each with AWS's error.
enum OperationRules {
    /// A page of at most `limit` (the model bounds it to 1 … 1000; absent means 100) after `marker`.
    static func page(limit: Int?, marker: String?) throws(KMSError) -> (size: Int, after: String?) {
        (limit ?? 100, try decodeMarker(marker))
    }

    /// The page of `records` (read with up to one more than `size`), the marker of the next page (the
    /// last item's sort key), and whether there is one.
    static func page<T>(
        _ records: [T], size: Int, sortKey: (T) -> String
    ) -> (items: ArraySlice<T>, nextMarker: String?, truncated: Bool) {
        let items = records.prefix(size)
        let truncated = records.count > size
        return (items, truncated ? items.last.map { encodeMarker(sortKey($0)) } : nil, truncated)
    }

    /// Markers are the last item's sort key in base64: opaque to clients, as AWS's are.
    static func encodeMarker(_ last: String) -> String {
        String(decoding: Base64.encode(Array(last.utf8)), as: UTF8.self)
    }

    static func decodeMarker(_ marker: String?) throws(KMSError) -> String? {
        guard let marker else { return nil }
        guard let bytes = Base64.decode(marker.utf8), let text = String(validating: bytes, as: UTF8.self) else {
            throw KMSError(.invalidMarker, "Invalid marker")
        }
        return text
    }

    /// The encryption context of a request (AWS: at most 64 pairs, 8192 bytes in all; PROTOCOL §2).
    static func context(_ pairs: StringPairs?, member: String) throws(KMSError) -> EncryptionContext {
        guard let pairs, !pairs.pairs.isEmpty else { return .empty }
        do {
            return try EncryptionContext(pairs.pairs.map { EncryptionContext.Pair(key: $0.key, value: $0.value) })
        } catch {
            throw KMSError(
                .validation,
                "1 validation error detected: Value at '\(member)' failed to satisfy constraint: an encryption "
                    + "context has at most 64 pairs, keys of 1 … 2048 bytes and 8192 bytes in all, each key once")
        }
    }

    /// Tags as TagResource and CreateKey take them: `aws:` keys are reserved (TagException).
    static func tags(_ tags: [Tag]?) throws(KMSError) -> [TagRecord] {
        let records = (tags ?? []).map { TagRecord(key: $0.tagKey, value: $0.tagValue) }
        for tag in records where tag.key.hasPrefix("aws:") {
            throw KMSError(.tag, "Tags beginning with aws: are reserved")
        }
        // Tag keys are compared by their bytes, as the store keeps them (String == would merge "é" and "e\u{301}").
        guard Set(records.map { Array($0.key.utf8) }).count == records.count else {
            throw KMSError(.tag, "Duplicate tag keys")
        }
        guard records.count <= KMSService.Limits.tagsPerKey else {
            throw KMSError(.tag, "A key has at most \(KMSService.Limits.tagsPerKey) tags")
        }
        return records
    }

    /// A key policy: a JSON object of at most 32 KiB (MalformedPolicyDocumentException). Its statements
    /// are evaluated by the access-control issue's authorizer.
    static func checkPolicy(_ policy: String) throws(KMSError) {
        guard policy.utf8.count <= KMSService.Limits.policyMaximum else {
            throw KMSError(.limitExceeded, "The key policy is larger than \(KMSService.Limits.policyMaximum) bytes")
        }
        let document: PolicyDocument
        do {
            document = try PolicyDocument(json: policy, kind: .keyPolicy)
        } catch {
            throw KMSError(.malformedPolicy, "The key policy is not valid: \(error.message)")
        }
        if let problem = SupportedConditionKeys.problem(in: document) {
            throw KMSError(.malformedPolicy, "The key policy is not valid: \(problem)")
        }
    }

    /// AWS's policy lockout safety check: the new policy must let the caller call PutKeyPolicy on the
    /// key later, unless `BypassPolicyLockoutSafetyCheck` is true.
    static func checkLockout(
        _ policy: String, keyARN: String, bypass: Bool?, _ call: OperationCall
    ) async throws(KMSError) {
        guard bypass != true else { return }
        guard await call.kms.authorizer.keepsPolicyAccess(policy, keyARN: keyARN, context: call.context) else {
            throw KMSError(
                .malformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
        }
    }

    /// An alias name beyond the model's pattern: `alias/` and a name, and not AWS's `alias/aws/` prefix.
    static func checkAliasName(_ name: String) throws(KMSError) {
        guard name.hasPrefix("alias/"), name.count > "alias/".count else {
            throw KMSError(
                .validation,
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        }
        guard !name.hasPrefix("alias/aws/") else {
            throw KMSError(
                .notAuthorized, "Cannot create, update or delete an alias with the reserved prefix alias/aws/")
        }
    }

    /// The alias side of an alias operation: AWS authorizes `action` on the alias itself too, by the
    /// caller's identity policies (the key side goes through the key's policy).
    static func authorizeAlias(_ name: String, action: String, _ call: OperationCall) async throws(KMSError) {
        try await call.kms.require(
            AuthorizationInput(
                action: action, key: nil, context: call.context,
                resource: KMSService.aliasARN(name, in: call.context.scope)))
    }

    /// Coffer has no attested enclaves; a request naming a `Recipient` is refused.
    static func refuseRecipient(_ recipient: RecipientInfo?) throws(KMSError) {
        guard recipient == nil else {
            throw KMSError(.unsupportedOperation, "Coffer does not support Recipient (attested enclaves)")
        }
    }
}
