import CofferCrypto
import CofferJSON
import CofferKMS
import Foundation
import Logging
import Metrics

/// The AWS KMS API endpoint as a pure function of a request (DESIGN.md): AWS JSON 1.1 (`POST /`,
/// `X-Amz-Target: TrentService.<Operation>`), SigV4 on every request, errors as AWS sends them
/// (`{"__type", "message"}`, `x-amzn-ErrorType`), a request id on every response. The operation itself
/// runs through ``KMSService/perform(operation:body:context:)``; the Hummingbird route only copies bytes
/// in and out.
public struct KMSEndpoint: Sendable {
    /// A response before it becomes HTTP.
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: [UInt8]

        /// The AWS error name of an error reply (`x-amzn-ErrorType`).
        var errorName: String? { headers.first { $0.0 == "x-amzn-ErrorType" }?.1 }
    }

    /// Which regions the endpoint serves.
    public enum Regions: Sendable, Equatable {
        /// Every region, each its own namespace (`coffer dev`, like the emulators).
        case all
        /// One region; a request signed for another is refused as AWS refuses it.
        case only(String)
    }

    /// The largest request body accepted (a 4096-byte plaintext in base64 with a full context fits).
    public static let maximumBody = 1 << 20
    /// The target of `coffer dev --allow-reset`'s reset call (SigV4-signed like every call).
    public static let resetTarget = "CofferDev.Reset"

    private let kms: KMSService
    private let verifier: SigV4Verifier
    private let regions: Regions
    private let reset: (@Sendable ([UInt8], RequestContext) async throws(KMSError) -> Void)?
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let secureTransport: Bool
    private let metrics = RequestMetrics()

    /// An endpoint in front of `kms` for `regions`, authenticating callers with `verifier`. With `reset`,
    /// a signed `CofferDev.Reset` call runs it with the request body and the caller's context (dev mode
    /// only).
    public init(
        kms: KMSService, verifier: SigV4Verifier, regions: Regions = .all,
        reset: (@Sendable ([UInt8], RequestContext) async throws(KMSError) -> Void)? = nil, logger: Logger,
        clock: @escaping @Sendable () -> Int64, secureTransport: Bool = false
    ) {
        self.secureTransport = secureTransport
        self.kms = kms
        self.verifier = verifier
        self.regions = regions
        self.reset = reset
        self.logger = logger
        self.clock = clock
    }

    /// Answers one request, and counts it (`coffer_requests_total` by operation and outcome, and
    /// `coffer_request_duration_seconds` by operation). The operation label is an AWS KMS operation name
    /// or `other`: a caller's unknown target never becomes a label of its own.
    public func handle(_ request: SigV4Request, sourceAddress: String? = nil) async -> Reply {
        let started = ContinuousClock.now
        let target = request.values("x-amz-target").first
        let operation = target.flatMap { target -> String? in
            target.hasPrefix("TrentService.") ? String(target.dropFirst("TrentService.".count)) : nil
        }
        let reply = await answer(request, target: target, operation: operation, sourceAddress: sourceAddress)
        let label =
            if let operation, KMSRegistry.isAWSOperation(operation) {
                operation
            } else if target == Self.resetTarget {
                target ?? "other"
            } else {
                "other"
            }
        let outcome = reply.status == 200 ? "ok" : reply.errorName ?? "\(reply.status)"
        metrics.record(operation: label, code: outcome, duration: ContinuousClock.now - started)
        return reply
    }

    private func answer(
        _ request: SigV4Request, target: String?, operation: String?, sourceAddress: String?
    ) async -> Reply {
        let requestID = RandomUUID.lowercased()
        do throws(KMSError) {
            guard request.method == "POST", request.path == "/" else {
                throw KMSError(.unknownOperation, "KMS accepts POST / only")
            }
            let identity: SigV4Verifier.Identity
            do {
                identity = try await verifier.authenticate(request, now: clock())
            } catch {
                logger.notice(
                    "refused a signature", metadata: ["requestID": "\(requestID)", "reason": "\(error.code)"])
                return Self.error(
                    name: error.awsErrorName, message: error.message, requestID: requestID, status: error.httpStatus)
            }
            // The operation is chosen by X-Amz-Target: unsigned, a captured request could be replayed as
            // another operation with the same body. Every AWS SDK (and curl --aws-sigv4) signs it.
            if target != nil, !identity.signedHeaders.contains("x-amz-target") {
                return Self.error(
                    name: "IncompleteSignatureException", message: "X-Amz-Target must be among the SignedHeaders",
                    requestID: requestID)
            }
            if !Self.isRegionName(identity.region) {
                return Self.error(
                    name: "InvalidSignatureException",
                    message: "Credential should be scoped to a valid region. ", requestID: requestID)
            }
            if case .only(let served) = regions, identity.region != served {
                return Self.error(
                    name: "InvalidSignatureException",
                    message: "Credential should be scoped to a valid region, not '\(identity.region)'. ",
                    requestID: requestID)
            }
            let context = RequestContext(
                account: identity.account, region: identity.region, principal: identity.principal,
                accessKeyID: identity.accessKeyID, requestID: requestID, sourceAddress: sourceAddress,
                secureTransport: secureTransport, identityPolicies: identity.identityPolicies)
            let body: [UInt8]
            if target == Self.resetTarget, let reset {
                try await reset(request.body, context)
                body = Array("{}".utf8)
            } else {
                guard let operation else {
                    throw KMSError(.unknownOperation, "Unknown operation \(target ?? "(no X-Amz-Target)")")
                }
                body = try await kms.perform(operation: operation, body: request.body, context: context)
            }
            logger.info(
                "served",
                metadata: [
                    "requestID": "\(requestID)", "operation": "\(operation ?? target ?? "?")",
                    "caller": "\(identity.accessKeyID)",
                ])
            return Reply(status: 200, headers: Self.headers(requestID), body: body)
        } catch {
            var metadata: Logger.Metadata = [
                "requestID": "\(requestID)", "operation": "\(operation ?? "?")", "error": "\(error.code)",
            ]
            if let cause = error.cause {
                // A dependency failed (the store's diagnostic): what an operator needs to find out why.
                metadata["cause"] = "\(cause)"
                logger.warning("failed", metadata: metadata)
            } else {
                logger.info("refused", metadata: metadata)
            }
            return Self.error(
                name: error.code.awsName, message: error.message, requestID: requestID, status: error.code.httpStatus)
        }
    }

    /// A region name as the model's RegionType has it, `^([a-z]+-){2,3}\d+$` (`us-east-1`,
    /// `us-gov-west-1`): every other string is refused before it can become a namespace.
    static func isRegionName(_ region: String) -> Bool { RegionName.isValid(region) }

    static func headers(_ requestID: String) -> [(String, String)] {
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", requestID)]
    }

    static func error(name: String, message: String, requestID: String, status: Int = 400) -> Reply {
        var writer = JSONWriter()
        writer.beginObject()
        writer.name("__type")
        writer.string(name)
        if !message.isEmpty {
            writer.name("message")
            writer.string(message)
        }
        writer.endObject()
        return Reply(status: status, headers: headers(requestID) + [("x-amzn-ErrorType", name)], body: writer.bytes)
    }
}
