import CofferCrypto
import CofferHSMClient
import CofferTestSupport
import CofferWire
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A real `coffer hsm` process on loopback, as an operator runs it.
@Suite(.serialized) struct HSMProcessTests {
    /// The `coffer` executable built next to this test bundle.
    static var cofferPath: String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("coffer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return ".build/debug/coffer"
    }

    /// Why a `coffer hsm` process did not come up: its log.
    struct StartFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "coffer hsm did not start listening:\n\(log)" }
    }

    /// Starts `coffer hsm` (on a free port the kernel picks, unless `port` is given) and waits for its
    /// "listening on" line, which names the bound address; throws with the log when the process exits or
    /// does not listen within 30 s. It waits with `Task.sleep`: a blocked thread of the shared pool would
    /// stall every other test running beside it (and with them the HSM connections they hold open).
    static func startHSM(
        port requested: Int = 0, unixPath: String? = nil
    ) async throws -> (process: Process, address: HSMAddress, log: URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-hsm-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cofferPath)
        // The grace an unauthenticated connection gets is 10 s by default; a test's identify or operator
        // connection waits longer than that when CPU-bound suites beside it hold both cores, so these
        // processes get a minute (the grace itself is tested in process by InProcessServerTests).
        process.arguments = [
            "hsm", "--listen", unixPath.map { "unix:\($0)" } ?? "127.0.0.1:\(requested)",
            "--unauthenticated-grace", "60",
        ]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<600 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on ") {
                let shown = text[range.upperBound...].prefix { !$0.isWhitespace }
                if let address = HSMAddress(String(shown)) { return (process, address, log) }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { process.terminate() }
        throw StartFailure(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "(no log)")
    }

    /// The hsmID an HSM reports (its identity verified).
    static func identify(_ address: HSMAddress) async throws -> String {
        let connection = try await HSMConnection.connect(to: address)
        defer { Task { await connection.close() } }
        guard
            case .identity(let signed) = try await connection.request(
                .identify(challenge: [UInt8](repeating: 1, count: 16))),
            signed.isSelfSigned
        else { throw FixtureError() }
        return signed.identity.hsmID
    }

    @Test func theProcessDisablesCoreDumpsLocksMemoryAndWipesOnSIGTERM() async throws {
        let (process, address, log) = try await Self.startHSM()
        defer { if process.isRunning { process.terminate() } }
        let pid = process.processIdentifier
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let coreLine = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(
            coreLine.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"],
            "core dumps must be off: \(coreLine)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let locked =
            status.split(separator: "\n").first { $0.hasPrefix("VmLck:") }.map { !$0.contains(" 0 kB") } ?? false
        let warned = (try String(contentsOf: log, encoding: .utf8)).contains("memory is not locked")
        // Which outcome is right is known here, so the test can fail either way: root (CAP_IPC_LOCK) or an
        // unlimited RLIMIT_MEMLOCK must lock; anyone else is refused by the kernel and must say so.
        // CAP_IPC_LOCK (bit 14 of CapEff; root in a container may lack it) or an unlimited RLIMIT_MEMLOCK
        // lets mlockall succeed for any size.
        let ownStatus = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let capabilities =
            ownStatus.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
            .flatMap { UInt64($0.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        var memlock = rlimit()
        let unlimited = getrlimit(Int32(__RLIMIT_MEMLOCK.rawValue), &memlock) == 0 && memlock.rlim_cur == rlim_t.max
        #expect(locked != warned, "exactly one of: memory locked, or the warning logged")
        if capabilities & (1 << 14) != 0 || unlimited {
            #expect(locked, "memory must be locked (VmLck > 0) where the kernel allows it")
        }

        let connection = try await HSMConnection.connect(to: address)
        let answer = try await connection.request(.identify(challenge: [UInt8](repeating: 3, count: 16)))
        guard case .identity = answer else {
            Issue.record("the HSM must answer identify")
            return
        }
        await connection.close()

        let signalled = ContinuousClock.now
        kill(pid, SIGTERM)
        // Not a timing assertion: a generous bound so that a hang fails the test instead of stalling it.
        for _ in 0..<1000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        print("coffer hsm exited \(ContinuousClock.now - signalled) after SIGTERM (PROTOCOL §10 asks for 2 s)")
        #expect(!process.isRunning, "the HSM must exit after SIGTERM")
        #expect(process.terminationStatus == 0)
        #expect((try String(contentsOf: log, encoding: .utf8)).contains("wiped every key"))
    }

    @Test func theHSMListensOnAUnixSocket() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-\(UInt32.random(in: 0...UInt32.max)).sock"
        ).path
        let (process, address, _) = try await Self.startHSM(unixPath: path)
        defer {
            process.terminate()
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(address == .unix(path: path))
        let hsmID = try await Self.identify(address)
        #expect(hsmID.count == 32)
    }

    @Test(.timeLimit(.minutes(1))) func theSocketAnswersMalformedFramesAndClosesOnOversizedOnes() async throws {
        let (process, address, _) = try await Self.startHSM()
        defer { process.terminate() }
        guard case .tcp(let host, let port) = address else { return }
        let socket = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await socket.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            // An empty frame: failure(malformed) with id 0, connection kept.
            try await outbound.write(ByteBuffer(bytes: [0, 0, 0, 0]))
            var received = ByteBuffer()
            func nextFrame() async throws -> Envelope? {
                while true {
                    if let frame = try FrameParser.nextFrame(from: &received), case .body(let body) = frame {
                        return try Envelope(derEncoded: Array(body.readableBytesView))
                    }
                    guard var more = try await iterator.next() else { return nil }
                    received.writeBuffer(&more)
                }
            }
            let first = try #require(try await nextFrame())
            #expect(first.id == 0)
            guard case .failure(let failure) = first.body else {
                Issue.record("expected failure")
                return
            }
            #expect(failure.code == .malformed)
            // Garbage with a readable id: answered with that id.
            let version2 = Envelope(id: 42, body: .currentToken).derBytes
            var patched = version2
            patched[4] = 2  // version 2
            try await outbound.write(ByteBuffer(bytes: BigEndian.uint32(UInt32(patched.count)) + patched))
            let second = try #require(try await nextFrame())
            #expect(second.id == 42)
            guard case .failure(let unsupported) = second.body else {
                Issue.record("expected failure")
                return
            }
            #expect(unsupported.code == .unsupported)
            // A request still works on the same connection.
            try await outbound.write(ByteBuffer(bytes: Envelope(id: 43, body: .currentToken).frame))
            #expect(try await nextFrame()?.id == 43)
            // Three frames in one write, then an oversized length in the same write: the answers leave
            // together when the read is done, and are sent before the connection closes.
            let together = (44...46).flatMap { Envelope(id: Int64($0), body: .currentToken).frame }
            try await outbound.write(ByteBuffer(bytes: together + [0x00, 0x10, 0x00, 0x01]))
            for id in 44...46 { #expect(try await nextFrame()?.id == Int64(id)) }
            #expect(try await nextFrame() == nil)
        }
    }
}
