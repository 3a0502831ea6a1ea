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

/// A hub with more branches than `HubEndpoint.deadlineTreeFrom` keeps their deadlines in a tree
/// updated when a branch is drained; with the check on, every `nextDeadline()` compares the tree
/// with every engine. Traffic both ways and between branches (forwarding re-enters other branches'
/// engines from inside a drain), links cut and restored, over 20 s.
@Suite struct HubDeadlineTreeTests {
    @Test func treeMatchesEveryBranchEngine() {
        let branches = 20
        let rules = (0..<branches).map {
            BranchForwardingRule(fromBranch: "branch\($0)", toBranch: "branch\(($0 + 7) % branches)")
        }
        var deliveredAtHub = 0
        var deliveredAtBranches = 0
        TunnelEngine.$verifiesDeadlineCaches.withValue(true) {
            let fixture = NetworkFixture(
                seed: 31,
                branches: branches,
                links: TunnelEngineTests.twoLinks(),
                forwardingRules: rules
            )
            let network = HubEndpointTests.established(fixture)
            network.onDelivery = { branch, _, _ in
                if branch == nil { deliveredAtHub += 1 } else { deliveredAtBranches += 1 }
            }
            var id: UInt32 = 0
            for step in 0..<200 {
                let b = step % branches
                id += 1
                network.sendFromEdge(b, NetworkFixture.packet(branch: b, id: id, dscp: 46))
                network.sendFromEdge(b, NetworkFixture.packet(branch: b, id: id, dscp: 0, toBranch: (b + 7) % branches))
                network.sendFromHub(NetworkFixture.reply(branch: (b + 3) % branches, id: id, dscp: 0))
                if step == 60 { network.links[4][0].up.cut() }
                if step == 120 { network.links[4][0].up.restore() }
                network.run(until: network.simulation.now + .milliseconds(100))
            }
        }
        #expect(deliveredAtHub >= 190)
        #expect(deliveredAtBranches >= 380)
    }
}
