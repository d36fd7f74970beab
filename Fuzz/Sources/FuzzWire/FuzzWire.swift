import CofferFuzzing

/// libFuzzer's entry point: the frame decoder and every Coffer message parser (WireFuzzing).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    WireFuzzing.run(bytes)
    return 0
}

/// libFuzzer's driver, exported by the fuzzer runtime that `-sanitize=fuzzer` links.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links every executable with `main` aliased to `<Module>_main`; with `-parse-as-library`
/// there is no Swift `main`, so this one hands control to libFuzzer's driver.
@_cdecl("FuzzWire_main")
public func fuzzWireMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzWire)
}
