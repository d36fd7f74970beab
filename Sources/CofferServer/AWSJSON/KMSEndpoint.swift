import CofferCrypto
import CofferKMS
import Foundation
import Logging

/// The AWS KMS API endpoint as a pure function of a request (DESIGN.md): AWS JSON 1.1 (`POST /`,
/// `X-Amz-Target: TrentService.<Operation>`), SigV4 on every request, errors as AWS sends them
/// (`{"__type", "message"}`, `x-amzn-ErrorType`), a request id on every response. The Hummingbird
/// route only copies bytes in and out.
public struct KMSEndpoint: Sendable {
    /// A response before it becomes HTTP.
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: [UInt8]
    }

    /// The largest request body accepted (a 4096-byte plaintext in base64 with a full context fits).
    public static let maximumBody = 1 << 20

    private let kms: KMSService
    private let verifier: SigV4Verifier
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    /// An endpoint in front of `kms`, authenticating callers with `verifier`.
    public init(kms: KMSService, verifier: SigV4Verifier, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.kms = kms
        self.verifier = verifier
        self.logger = logger
        self.clock = clock
    }

    /// Answers one request.
    public func handle(_ request: SigV4Request) async -> Reply {
        let requestID = UUID().uuidString.lowercased()
        let operation = request.values("x-amz-target").first.flatMap { target -> String? in
            target.hasPrefix("TrentService.") ? String(target.dropFirst("TrentService.".count)) : nil
        }
        do {
            guard request.method == "POST", request.path == "/" else {
                throw KMSError(.unknownOperation, "KMS accepts POST / only")
            }
            let identity: SigV4Verifier.Identity
            do {
                identity = try verifier.verify(request, now: clock())
            } catch {
                logger.notice(
                    "refused a signature", metadata: ["requestID": "\(requestID)", "reason": "\(error.code)"])
                return Self.error(name: error.awsErrorName, message: error.message, requestID: requestID)
            }
            guard let operation, let handler = KMSOperations.table[operation] else {
                throw KMSError(.unknownOperation, "Unknown operation \(operation ?? "(no X-Amz-Target)")")
            }
            let input = try JSONInput(body: request.body)
            let output = try await handler(kms, input, identity.region)
            let body = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
            logger.info(
                "served",
                metadata: [
                    "requestID": "\(requestID)", "operation": "\(operation)", "caller": "\(identity.accessKeyID)",
                ])
            return Reply(status: 200, headers: Self.headers(requestID), body: Array(body))
        } catch let error as KMSError {
            logger.info(
                "refused",
                metadata: ["requestID": "\(requestID)", "operation": "\(operation ?? "?")", "error": "\(error.code)"])
            let status = error.code == .internal || error.code == .dependencyTimeout ? 500 : 400
            return Self.error(name: error.code.awsName, message: error.message, requestID: requestID, status: status)
        } catch {
            logger.error("internal error", metadata: ["requestID": "\(requestID)", "operation": "\(operation ?? "?")"])
            return Self.error(
                name: "KMSInternalException", message: "An internal error occurred (request \(requestID))",
                requestID: requestID, status: 500)
        }
    }

    static func headers(_ requestID: String) -> [(String, String)] {
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", requestID)]
    }

    static func error(name: String, message: String, requestID: String, status: Int = 400) -> Reply {
        let object: [String: Any] = ["__type": name, "message": message]
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Reply(status: status, headers: headers(requestID) + [("x-amzn-ErrorType", name)], body: Array(body))
    }
}
