import Foundation
import Testing

/// The core must stay pure (docs/architecture.md): no clock reads, no sockets, no unseeded
/// randomness, no logging backend. The simulator's determinism depends on it, so the rule is a test.
@Suite struct CorePurityTests {
    static let coreDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/SDWANCore")

    /// Patterns that must not appear in the core's code (comments are stripped first).
    static let forbidden: [(pattern: String, why: String)] = [
        (#"\bimport\s+Foundation\b"#, "Foundation brings Date and clocks; the core does not need it"),
        (#"\bimport\s+(NIOPosix|Glibc|Darwin|Dispatch|Logging)\b"#, "I/O, system calls or a logging backend"),
        (#"\bDate\s*\("#, "reads the wall clock"),
        (#"\b(ContinuousClock|SuspendingClock|DispatchTime|DispatchWallTime)\b"#, "reads a clock"),
        (#"\b(clock_gettime|gettimeofday|time\s*\(|mach_absolute_time)"#, "reads a clock"),
        (#"\bTask\.sleep\b"#, "waits on a real clock"),
        (#"\b(socket|bind|sendto|recvfrom|sendmsg|recvmsg)\s*\("#, "opens or uses a socket"),
        (#"\bSystemRandomNumberGenerator\b"#, "unseeded randomness"),
        (#"\.random\(in:(?![^)]*using:)"#, "randomness without an explicit generator"),
        (#"\.(randomElement|shuffled|shuffle)\(\s*\)"#, "randomness without an explicit generator"),
        (#"\b(arc4random|drand48|rand)\s*\("#, "unseeded randomness"),
    ]

    static func sources() throws -> [(String, String)] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: coreDirectory.path))
        return try enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().map {
            ($0, try String(contentsOf: coreDirectory.appendingPathComponent($0), encoding: .utf8))
        }
    }

    static func stripComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if let range = line.range(of: "//") { return String(line[..<range.lowerBound]) }
            return String(line)
        }.joined(separator: "\n")
    }

    @Test func coreSourcesReadNoClockOpenNoSocketAndDrawNoUnseededRandomness() throws {
        let files = try Self.sources()
        #expect(files.count >= 10, "the core's sources were not found at \(Self.coreDirectory.path)")
        for (name, text) in files {
            let code = Self.stripComments(text)
            for rule in Self.forbidden {
                let regex = try NSRegularExpression(pattern: rule.pattern)
                let range = NSRange(code.startIndex..., in: code)
                if let match = regex.firstMatch(in: code, range: range), let r = Range(match.range, in: code) {
                    Issue.record("\(name): `\(code[r])` — \(rule.why)")
                }
            }
        }
    }

    @Test func checkerCatchesAViolation() throws {
        // The rules themselves must bite: each sample line is caught by some rule.
        let samples = [
            "let t = Date()", "let c = ContinuousClock.now", "var g = SystemRandomNumberGenerator()",
            "let x = Int.random(in: 0..<10)", "import NIOPosix", "let s = socket(AF_INET, 2, 0)",
            "let y = xs.shuffled()",
        ]
        for sample in samples {
            let caught = try Self.forbidden.contains { rule in
                try NSRegularExpression(pattern: rule.pattern).firstMatch(
                    in: sample,
                    range: NSRange(sample.startIndex..., in: sample)
                ) != nil
            }
            #expect(caught, "\(sample) slipped through")
        }
        let allowed = "let x = Int.random(in: 0..<10, using: &rng)"
        let flagged = try Self.forbidden.contains { rule in
            try NSRegularExpression(pattern: rule.pattern).firstMatch(
                in: allowed,
                range: NSRange(allowed.startIndex..., in: allowed)
            ) != nil
        }
        #expect(!flagged)
    }
}
