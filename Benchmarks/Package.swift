// swift-tools-version:6.1
// Coffer's micro-benchmarks (package-benchmark). A separate package so the main build and CI never
// compile the benchmark tooling. Run from the repository root:
//   swift package --package-path Benchmarks benchmark
import PackageDescription

let package = Package(
    name: "coffer-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "coffer", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SessionBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CofferHSM", package: "coffer"),
                .product(name: "CofferHSMClient", package: "coffer"),
                .product(name: "CofferDomain", package: "coffer"),
                .product(name: "CofferWire", package: "coffer"),
                .product(name: "CofferCrypto", package: "coffer"),
                .product(name: "CofferKMS", package: "coffer"),
                .product(name: "CofferPolicy", package: "coffer"),
                .product(name: "CofferStore", package: "coffer"),
                .product(name: "CofferServer", package: "coffer"),
                .product(name: "CofferJSON", package: "coffer"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/SessionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
