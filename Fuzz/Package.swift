// swift-tools-version:6.1
// libFuzzer targets for Coffer (docs/fuzzing.md). A separate package so that the main package's
// `swift build` never links an executable without `main`; build with
//   swift build -c debug --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "coffer-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "coffer", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzWire",
            dependencies: [.product(name: "CofferFuzzing", package: "coffer")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
