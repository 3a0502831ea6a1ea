import Foundation
import SDWANConfig
import SDWANCore
import SDWANSimulator
import Testing

/// The engine caches each class's and each link's timer deadline and refreshes only what an input
/// touched (docs/simulator.md, "Speed"). A missed refresh would leave a timer unarmed: these runs
/// have every engine compare its caches with a full walk after every input, and stop on the first
/// difference, over every shipped scenario (timelines, hub restarts, rebinds, FEC, striping).
@Suite struct DeadlineCacheTests {
    @Test(arguments: ScenarioTests.scenarioFiles)
    func cachedDeadlinesMatchAFullWalk(_ file: String) throws {
        let scenario = try ScenarioTests.load(file)
        let summary = TunnelEngine.$verifiesDeadlineCaches.withValue(true) {
            Simulator.run(scenario, duration: min(scenario.duration, .seconds(40)))
        }
        // The run reached its end (a stale cache stops the process with the class or link named).
        #expect(summary.simulatedSeconds == min(scenario.duration, .seconds(40)).seconds)
        #expect(summary.classes.contains { $0.delivered > 0 })
    }
}
