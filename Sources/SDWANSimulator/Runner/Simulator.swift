import Foundation
import SDWANConfig
@_spi(Simulation) import SDWANCore

/// Runs scenarios: the entry point of `sdwan simulate`, the scenario tests and the benchmark.
public enum Simulator {
    /// Runs `scenario` (with `seed`/`duration` overriding the file's) and returns its summary.
    /// `nullCipher` replaces ChaCha20-Poly1305 by the simulation-only null cipher (same sizes,
    /// same delivery results; `SimulationCipher`). `seriesInterval` adds the `series` section
    /// sampled that often (for reports).
    public static func run(
        _ scenario: Scenario,
        seed: UInt64? = nil,
        duration: TimeSpan? = nil,
        nullCipher: Bool = true,
        seriesInterval: TimeSpan? = nil
    ) -> SimulationSummary {
        let body = { () -> SimulationSummary in
            let run = ScenarioRun(scenario, seed: seed, duration: duration, seriesInterval: seriesInterval)
            let wall = run.run()
            return run.summary(wallSeconds: wall, nullCipher: nullCipher)
        }
        return nullCipher ? SimulationCipher.withNullCipher(body) : body()
    }

    /// The summary as JSON: sorted keys, pretty-printed, newline-terminated.
    public static func json(_ summary: SimulationSummary) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(summary)
        data.append(0x0A)
        return data
    }
}
