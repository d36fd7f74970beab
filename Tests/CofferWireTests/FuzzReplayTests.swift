import CofferFuzzing
import CofferWire
import Foundation
import Testing

/// Replays every input in `FuzzCorpus/` (the seeds from protocol.json and every crash or interesting
/// input a fuzzer ever found) through the fuzz entry, so a fixed bug stays fixed. A further folder,
/// for example a fuzzer's working corpus, can be replayed with `COFFER_FUZZ_CORPUS=/path`.
@Suite struct FuzzReplayTests {
    @Test func everyCorpusInputRunsWithoutCrashing() throws {
        var folders: [URL] = []
        if let bundled = Bundle.module.url(forResource: "FuzzCorpus", withExtension: nil) { folders.append(bundled) }
        if let extra = ProcessInfo.processInfo.environment["COFFER_FUZZ_CORPUS"] {
            folders.append(URL(fileURLWithPath: extra))
        }
        var replayed = 0
        for folder in folders {
            for file in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) {
                WireFuzzing.run(Array(try Data(contentsOf: file)))
                replayed += 1
            }
        }
        print("FuzzReplay: replayed \(replayed) inputs from \(folders.map(\.lastPathComponent))")
        #expect(replayed >= 186)
    }

    @Test func theHSMEntryReachesAnOperationalHSMAndItsSession() throws {
        // The hsm-* seeds are what HSMFuzzing.seeds() wrote; fresh seeds must reach as deep: an identity,
        // an accepted session, the domain's token, and session requests that open and are served.
        let frames = try HSMFuzzing.seeds()
        if let folder = ProcessInfo.processInfo.environment["COFFER_WRITE_HSM_SEEDS"] {
            // docs/fuzzing.md: regenerates the committed hsm-* seeds.
            for (index, frame) in (frames + [frames.flatMap { $0 }]).enumerated() {
                try Data(frame).write(to: URL(fileURLWithPath: folder).appendingPathComponent("hsm-\(index)"))
            }
        }
        let answers = HSMFuzzing.answers(frames.flatMap { $0 })
        #expect(answers.count == frames.count)
        var kinds: [String] = []
        for answer in answers {
            switch answer.body {
            case .identity: kinds.append("identity")
            case .accept: kinds.append("accept")
            case .token: kinds.append("token")
            case .sessionResponse: kinds.append("sessionResponse")
            default: kinds.append("other: \(answer.body)")
            }
        }
        #expect(kinds == ["identity", "accept", "token"] + Array(repeating: "sessionResponse", count: 12))
        let folder = try #require(Bundle.module.url(forResource: "FuzzCorpus", withExtension: nil))
        let committed = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("hsm-") }
        #expect(committed.count == frames.count + 1, "one seed per frame and one with all of them")
    }

    @Test func mutatedSeedsRunWithoutCrashing() throws {
        // A cheap, deterministic stand-in for the fuzzer in every test run: each seed with one byte
        // flipped, truncated, or extended.
        let folder = try #require(Bundle.module.url(forResource: "FuzzCorpus", withExtension: nil))
        var runs = 0
        for file in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).prefix(60)
        {
            let seed = Array(try Data(contentsOf: file))
            guard !seed.isEmpty else { continue }
            for index in stride(from: 0, to: seed.count, by: max(1, seed.count / 40)) {
                var flipped = seed
                flipped[index] ^= 0x80
                WireFuzzing.run(flipped)
                WireFuzzing.run(Array(seed.prefix(index)))
                runs += 2
            }
            WireFuzzing.run(seed + [0])
            runs += 1
        }
        print("FuzzReplay: \(runs) mutated inputs")
        #expect(runs > 1000)
    }
}
