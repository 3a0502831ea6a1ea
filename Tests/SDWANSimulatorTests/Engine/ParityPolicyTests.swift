import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// A class kept off metered links (`metered: false`) must not have its parity sent on one either
/// (docs/fec.md, "Cross-link parity").
@Suite struct ParityPolicyTests {
    /// Voice (one packet every 2 ms, FEC k = 4) over broadband and a metered LTE link; voice rides
    /// broadband, so LTE is the link that carries none of a group's data — the parity's first
    /// choice when the class may use it. Returns the datagrams the LTE uplink carried, and the
    /// parity frames the encoder wrote.
    static func run(fec: Bool, meteredAllowed: Bool) -> (lteDatagrams: UInt64, parityFrames: Int) {
        let links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)] = [
            (TunnelEngineTests.broadband, NetworkFixture.link(delayMs: 10), NetworkFixture.link(delayMs: 10)),
            (TunnelEngineTests.lte, NetworkFixture.link(delayMs: 30), NetworkFixture.link(delayMs: 30)),
        ]
        var classes = DefaultClasses.classes
        classes[0].meteredAllowed = meteredAllowed
        var policies = [ClassFECPolicy?](repeating: nil, count: classes.count)
        if fec { policies[0] = ClassFECPolicy(groupSize: 4, stride: 1, delayBudget: .milliseconds(20)) }
        let network = NetworkFixture(seed: 23, links: links, classes: classes, fec: policies).network
        network.start()
        network.run(until: .zero + .seconds(5))
        let n = 4_000
        for i in 0..<n {
            network.simulation.schedule(.action(i), at: .zero + .seconds(5) + .milliseconds(Int64(i) * 2))
        }
        network.run(until: .zero + .seconds(6) + .milliseconds(Int64(n) * 2)) { id, _ in
            network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef))
        }
        let parity = network.edges[0].fecStatistics(forClass: 0).encoder?.parityFrames ?? 0
        return (network.links[0][1].up.model.counters.offered, parity)
    }

    @Test func parityStaysOffAMeteredLinkTheClassMayNotUse() {
        let plain = Self.run(fec: false, meteredAllowed: false)
        let kept = Self.run(fec: true, meteredAllowed: false)
        // The control: when the class may use LTE, the parity goes there (docs/fec.md, rule 4) —
        // the count below can tell.
        let allowed = Self.run(fec: true, meteredAllowed: true)
        print(
            "parity policy: LTE uplink datagrams without FEC \(plain.lteDatagrams), with FEC kept off LTE "
                + "\(kept.lteDatagrams) (\(kept.parityFrames) parity frames), with LTE allowed "
                + "\(allowed.lteDatagrams) (\(allowed.parityFrames) parity frames)"
        )
        // 4 000 members in groups of 4: about 1 000 parity frames, all on broadband.
        #expect(kept.parityFrames >= 900)
        // Only probes reach the LTE link either way (their count varies a little with traffic).
        #expect(kept.lteDatagrams <= plain.lteDatagrams + 20)
        #expect(allowed.lteDatagrams >= plain.lteDatagrams + 800)
    }
}
