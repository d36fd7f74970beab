import ArgumentParser
import CofferServer
import Foundation
import NIOCore

/// The HTTP limits of `coffer host` and `coffer dev` (docs/deployment.md, "Limits").
struct HTTPLimitOptions: ParsableArguments {
    @Option(help: "Seconds a connection may wait for its next request before it is closed.")
    var idleTimeout: Int = 60
    @Option(help: "Seconds a request's body may take to arrive after its headers.")
    var readTimeout: Int = 10
    @Option(
        help:
            "Connections held at once; past it a newcomer displaces the connection that has waited longest for its next request."
    )
    var maxConnections: Int = 4096

    func validate() throws {
        guard (1...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout is 1 … 3600 seconds") }
        guard (1...600).contains(readTimeout) else { throw ValidationError("--read-timeout is 1 … 600 seconds") }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections is 1 … 1,000,000")
        }
    }

    /// The limits, after raising this process's open-file limit to its hard limit so that
    /// --max-connections is not cut short by the soft one (often 1024).
    var limits: HTTPLimits {
        #if os(Linux)
        var files = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < files.rlim_max {
            files.rlim_cur = files.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &files)
        }
        #endif
        return HTTPLimits(
            idleTimeout: .seconds(Int64(idleTimeout)), readTimeout: .seconds(Int64(readTimeout)),
            maximumConnections: maxConnections)
    }
}
