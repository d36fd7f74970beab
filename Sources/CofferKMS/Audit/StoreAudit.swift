import CofferCrypto
import CofferJSON
import CofferPolicy
import CofferStore
import Foundation
import Logging

/// The tamper-evident audit log (docs/access-control.md, "The audit log"): one CloudTrail-shaped record
/// per API call — time, principal, operation, key, the request's safe members, the decision and what
/// made it, the error, request id and source address — appended to the store's hash-chained table.
/// A successful call whose record cannot be written fails (DependencyTimeoutException: no call succeeds
/// unrecorded); the record of a failed call that cannot be written is logged as an error.
public struct StoreAudit: AuditSink {
    private let store: any KeyStore
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    /// A sink writing to `store`; `clock` gives seconds since 1970.
    public init(store: any KeyStore, clock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    public func record(_ event: AuditEvent) async {
        let entry = entry(event)
        do {
            _ = try await store.appendAudit(entry)
        } catch {
            logger.error(
                "the audit record was not written",
                metadata: [
                    "operation": "\(event.operation)", "requestId": "\(event.context.requestID)", "error": "\(error)",
                ])
        }
    }

    public func prepare(_ event: AuditEvent) -> PendingAudit? {
        PendingAudit(entry(event))
    }

    public func append(_ pending: PendingAudit) async throws(KMSError) {
        guard !pending.isWritten else { return }
        let entry = pending.entry
        do {
            _ = try await store.appendAudit(entry)
        } catch {
            // The store's diagnostic says why (unavailable, a failed COMMIT); an audit record holds no secret.
            logger.error(
                "the audit record was not written", metadata: ["operation": "\(entry.operation)", "error": "\(error)"])
            throw KMSError(.dependencyTimeout, "The call could not be recorded in the audit log; try again.")
        }
    }

    private func entry(_ event: AuditEvent) -> AuditEntry {
        let time = clock()
        let eventID = RandomUUID.lowercased()
        return AuditEntry(
            time: time, eventID: eventID, keyARN: event.keyARN, operation: event.operation,
            record: String(decoding: Self.record(event, time: time, eventID: eventID), as: UTF8.self))
    }

    /// The record as CloudTrail shapes a KMS event.
    static func record(_ event: AuditEvent, time: Int64, eventID: String) -> [UInt8] {
        let context = event.context
        var w = JSONWriter()
        w.beginObject()
        w.name("eventVersion")
        w.string("1.08")
        w.name("userIdentity")
        w.beginObject()
        w.name("type")
        w.string(identityType(context.principal, account: context.account))
        w.name("arn")
        w.string(context.principal)
        w.name("accountId")
        w.string(context.account)
        w.name("accessKeyId")
        w.string(context.accessKeyID)
        w.endObject()
        w.name("eventTime")
        w.string(PolicyTime.iso8601(time))
        w.name("eventSource")
        w.string("kms.amazonaws.com")
        w.name("eventName")
        w.string(event.operation)
        w.name("awsRegion")
        w.string(context.region)
        w.name("sourceIPAddress")
        w.string(context.sourceAddress ?? "")
        w.name("requestParameters")
        w.value(event.requestParameters.map { .object($0) } ?? .null)
        if let code = event.errorCode {
            w.name("errorCode")
            w.string(code)
            w.name("errorMessage")
            w.string(event.errorMessage ?? "")
        }
        w.name("requestID")
        w.string(context.requestID)
        w.name("eventID")
        w.string(eventID)
        w.name("readOnly")
        w.bool(["Describe", "Get", "List"].contains { event.operation.hasPrefix($0) })
        if let key = event.keyARN {
            w.name("resources")
            w.beginArray()
            w.beginObject()
            w.name("accountId")
            w.string(context.account)
            w.name("type")
            w.string("AWS::KMS::Key")
            w.name("ARN")
            w.string(key)
            w.endObject()
            w.endArray()
        }
        w.name("eventType")
        w.string("AwsApiCall")
        w.name("managementEvent")
        w.bool(true)
        w.name("recipientAccountId")
        w.string(context.account)
        if let decision = event.decision {
            w.name("additionalEventData")
            w.beginObject()
            w.name("authorization")
            w.string(decision.allowed ? "Allow" : "Deny")
            w.name("decidedBy")
            w.string(decision.decidedBy)
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }

    /// CloudTrail's `userIdentity.type`.
    static func identityType(_ principal: String, account: String) -> String {
        if isRoot(principal, account: account) { return "Root" }
        if contains(principal, ":assumed-role/") { return "AssumedRole" }
        if contains(principal, ":role/") { return "AWSRole" }
        return "IAMUser"
    }

    /// Whether `principal` is `arn:aws:iam::ACCOUNT:root`, without building that string.
    static func isRoot(_ principal: String, account: String) -> Bool {
        let prefix = "arn:aws:iam::".utf8
        let suffix = ":root".utf8
        let text = principal.utf8
        return text.count == prefix.count + account.utf8.count + suffix.count && text.starts(with: prefix)
            && text.dropFirst(prefix.count).starts(with: account.utf8)
            && text.suffix(suffix.count).elementsEqual(suffix)
    }

    /// Whether `text` contains `part`, comparing UTF-8 bytes. Foundation's `contains` goes through
    /// `NSString` (a third of the record's cost), and the standard library's `firstRange(of:)` runs
    /// unspecialized, with dynamic casts (4 % of a GenerateDataKey's CPU in `coffer dev`).
    static func contains(_ text: String, _ part: String) -> Bool {
        var text = text
        var part = part
        return text.withUTF8 { text in
            part.withUTF8 { part in
                guard let first = part.first else { return true }
                guard part.count <= text.count else { return false }
                for start in 0...(text.count - part.count) where text[start] == first {
                    if UnsafeBufferPointer(rebasing: text[start..<start + part.count]).elementsEqual(part) {
                        return true
                    }
                }
                return false
            }
        }
    }
}
