import ArgumentParser
import Foundation
import SDWANConfig
import SDWANCore
import SDWANSimulator

/// `sdwan simulate SCENARIO`: runs a scenario through the real engine in virtual time
/// (docs/simulator.md) and prints a readable summary; `--json` writes the stable JSON summary.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulator scenario (simulator/*.yaml) in virtual time and check its expectations."
    )

    @Argument(help: "Scenario file (simulator/README.md).")
    var scenario: String
    @Option(help: "Seed (default: the scenario's).")
    var seed: UInt64?
    @Option(help: "Simulated duration, e.g. 30s or 2min (default: the scenario's).")
    var duration: String?
    @Option(help: "Write the JSON summary here (docs/simulator.md, \"JSON summary\").")
    var json: String?
    @Flag(name: .customLong("real-crypto"), help: "Seal with ChaCha20-Poly1305 instead of the null cipher.")
    var realCrypto = false
    @Option(help: "Write a Markdown report with SVG charts and summary.json into this directory.")
    var report: String?
    @Option(
        name: .customLong("series-interval"),
        help: "Sampling interval of the report's time series (default 250ms, longer runs ≤ 600 samples)."
    )
    var seriesInterval: String?
    @Flag(help: "Run the scenario's `sweep:` grid (raw loss × policy) instead of the scenario.")
    var sweep = false
    @Flag(help: "Run the `sweep:` block's policies side by side at the scenario's own conditions.")
    var compare = false

    func validate() throws {
        if sweep && compare { throw ValidationError("--sweep and --compare are separate runs: pick one") }
    }

    func run() throws {
        let loaded: Scenario
        do {
            loaded = try Scenario.load(path: scenario)
        } catch {
            throw ValidationError(error.description)
        }
        var span: TimeSpan?
        if let duration {
            guard let ns = Quantity.parseDurationNanoseconds(duration), ns > 0 else {
                throw ValidationError("--duration: `\(duration)` is not a positive duration (e.g. 30s, 2min)")
            }
            span = TimeSpan(nanoseconds: ns)
        }
        if sweep || compare {
            try runSweep(duration: span)
            return
        }
        var interval: TimeSpan?
        if report != nil || seriesInterval != nil {
            interval =
                try Self.duration(seriesInterval, option: "--series-interval")
                ?? Self.defaultInterval(span ?? loaded.duration)
        }
        let summary = Simulator.run(
            loaded,
            seed: seed,
            duration: span,
            nullCipher: !realCrypto,
            seriesInterval: interval
        )
        if let json {
            try Simulator.json(summary).write(to: URL(fileURLWithPath: json))
        }
        if let report {
            try Self.write(try RunReport.files(for: summary), into: report)
        }
        print(SummaryText.render(summary), terminator: "")
        if let report { print("report: \(report)/report.md") }
        if !summary.passed { throw ExitCode(1) }
    }

    /// `--sweep` / `--compare`: the grid of the scenario's `sweep:` block.
    func runSweep(duration: TimeSpan?) throws {
        let loaded: (scenario: Scenario, sweep: ScenarioSweep)
        do {
            loaded = try ScenarioSweep.load(path: scenario)
        } catch {
            throw ValidationError(error.description)
        }
        var grid = loaded.sweep
        if let duration { grid.duration = duration }
        let result = Sweep.run(loaded.scenario, grid, compare: compare, seed: seed, nullCipher: !realCrypto)
        if let json {
            try Sweep.json(result).write(to: URL(fileURLWithPath: json))
        }
        if let report {
            try Self.write(try SweepReport.files(for: result), into: report)
        }
        print(SweepReport.table(result), terminator: "")
        if let report { print("report: \(report)/report.md") }
    }

    static func duration(_ text: String?, option: String) throws -> TimeSpan? {
        guard let text else { return nil }
        guard let ns = Quantity.parseDurationNanoseconds(text), ns > 0 else {
            throw ValidationError("\(option): `\(text)` is not a positive duration (e.g. 250ms, 1s)")
        }
        return TimeSpan(nanoseconds: ns)
    }

    /// 250 ms, or for runs longer than 150 s the whole milliseconds that give at most 600 samples.
    static func defaultInterval(_ duration: TimeSpan) -> TimeSpan {
        let ms = max(250, (duration.nanoseconds / 600 + 999_999) / 1_000_000)
        return .milliseconds(ms)
    }

    static func write(_ files: [ReportFile], into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(file.name))
        }
    }
}
