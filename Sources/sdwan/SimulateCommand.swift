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
        let summary = Simulator.run(loaded, seed: seed, duration: span, nullCipher: !realCrypto)
        if let json {
            try Simulator.json(summary).write(to: URL(fileURLWithPath: json))
        }
        print(SummaryText.render(summary), terminator: "")
        if !summary.passed { throw ExitCode(1) }
    }
}
