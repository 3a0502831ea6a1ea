import Foundation
import Testing

/// The link models are as pure as the core (docs/simulator.md): the WAN emulator runs them in real
/// time and the simulator in virtual time only because they read no clock and draw randomness only
/// from the generator passed in.
@Suite struct LinkModelPurityTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/SDWANLinkModel")

    static let forbidden: [(pattern: String, why: String)] = [
        (#"\bimport\s+(Foundation|NIOPosix|Glibc|Darwin|Dispatch|Logging)\b"#, "imports beyond SDWANCore"),
        (#"\b(Date\s*\(|ContinuousClock|SuspendingClock|DispatchTime|clock_gettime)"#, "reads a clock"),
        (#"\bSystemRandom(NumberGenerator|Source)\b"#, "unseeded randomness"),
        (#"\.random\(in:(?![^)]*using:)"#, "randomness without an explicit generator"),
    ]

    @Test func linkModelSourcesReadNoClockAndDrawOnlyFromThePassedGenerator() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count >= 6, "sources not found at \(Self.directory.path)")
        for file in files {
            let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
            let code = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line)
            }.joined(separator: "\n")
            for rule in Self.forbidden {
                let regex = try NSRegularExpression(pattern: rule.pattern)
                if regex.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    Issue.record("\(file): \(rule.why)")
                }
            }
        }
    }
}
