import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// Long runs through the engines: rekeys under traffic, and FEC wired into the engine.
@Suite struct EngineLongRunTests {
    /// 400 s of a voice call (50 packets/s) both ways over two clean links: three rekeys happen
    /// (every 120 s) and not one packet is lost or duplicated across them.
    @Test func voiceCrossesRekeysWithoutLossBothWays() {
        let fixture = NetworkFixture(seed: 50, links: TunnelEngineTests.twoLinks())
        let network = fixture.network
        var rekeys = 0
        network.onEvent = { branch, event, _ in
            if branch == 0, case .session(.rekeyed) = event { rekeys += 1 }
        }
        network.start()
        network.run(until: .zero + .seconds(2))
        var atHub = Set<UInt32>()
        var atEdge = Set<UInt32>()
        var duplicates = 0
        network.onDelivery = { branch, delivery, _ in
            guard let id = NetworkFixture.id(of: delivery.packet) else { return }
            if branch == nil {
                if !atHub.insert(id).inserted { duplicates += 1 }
            } else if !atEdge.insert(id).inserted {
                duplicates += 1
            }
        }
        let count = 20_000
        for i in 0..<count {
            network.simulation.schedule(.action(i), at: .zero + .seconds(2) + .milliseconds(Int64(i) * 20))
        }
        network.run(until: .zero + .seconds(403)) { id, _ in
            network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef))
            network.sendFromHub(NetworkFixture.reply(branch: 0, id: UInt32(id), dscp: DSCP.ef))
        }
        #expect(rekeys >= 3)
        #expect(atHub.count == count)
        #expect(atEdge.count == count)
        #expect(duplicates == 0)
        #expect(network.edges[0].linkStatus(0) == .up && network.edges[0].linkStatus(1) == .up)
    }

    /// FEC k = 4, stride 10, 40 ms budget on the default class; 2 % random loss on the data link
    /// (broadband), parity on the clean MPLS link. With parity never lost, a member is lost for good
    /// iff another member of its group is lost too: p_res(m) = p·[1 − (1 − p)^(m−1)] for a group of
    /// m members. At 500 packets/s a group gathers one member per 10 packets (20 ms), so the 40 ms
    /// budget closes most groups at 2–3 members: the expected residual is computed from the
    /// encoder's actual mix of group sizes, with a band of 3 standard errors √(p_res(1−p_res)/N).
    @Test func fecInTheEngineRecoversRandomLossOnTheDataLink() {
        let loss = LossModel.bernoulli(p: 0.02)
        let links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)] = [
            (TunnelEngineTests.mpls, NetworkFixture.link(delayMs: 20), NetworkFixture.link(delayMs: 20)),
            (
                TunnelEngineTests.broadband, NetworkFixture.link(delayMs: 10, loss: loss),
                NetworkFixture.link(delayMs: 10)
            ),
        ]
        var policies = [ClassFECPolicy?](repeating: nil, count: DefaultClasses.classes.count)
        policies[4] = ClassFECPolicy(groupSize: 4, stride: 10, delayBudget: .milliseconds(40))
        // The default class's SLA tolerates the 2 % loss (≤ 5 %), so it stays on broadband.
        let fixture = NetworkFixture(seed: 51, links: links, fec: policies)
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(3))
        var delivered = Set<UInt32>()
        network.onDelivery = { branch, delivery, _ in
            if branch == nil, let id = NetworkFixture.id(of: delivery.packet) { delivered.insert(id) }
        }
        let n = 50_000
        for i in 0..<n {
            network.simulation.schedule(.action(i), at: .zero + .seconds(3) + .milliseconds(Int64(i) * 2))
        }
        network.run(until: .zero + .seconds(105)) { id, _ in
            network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: 0))
        }
        let hub = network.hub.engine(forBranch: "branch0")!
        let residual = Double(n - delivered.count) / Double(n)
        let recovered = hub.counters(forClass: 4).recoveredByFEC
        print(
            "engine FEC: residual \(residual * 100) % at 2 % loss, recovered \(recovered), on links \(network.edges[0].choice(forClass: 4).links)"
        )
        #expect(network.edges[0].choice(forClass: 4).links == [1])
        let p = 0.02
        let sizes = network.edges[0].fecStatistics(forClass: 4).encoder?.groupsBySize ?? []
        let members = sizes.enumerated().reduce(0.0) { $0 + Double($1.offset * $1.element) }
        let lostForGood = sizes.enumerated().reduce(0.0) { total, entry in
            total + Double(entry.offset * entry.element) * p * (1 - pow1p(-p, max(0, entry.offset - 1)))
        }
        let expected = lostForGood / max(members, 1)
        let se = (expected * (1 - expected) / Double(n)).squareRoot()
        print(
            "engine FEC: expected residual \(expected * 100) % ± \(3 * se * 100) % from group sizes \(sizes.prefix(6))"
        )
        #expect(abs(residual - expected) <= 3 * se)
        // Without FEC about 2 % (1 000 packets) would be lost: most were recovered.
        #expect(recovered >= 850)
    }

    /// (1 + x)^k for small integer k, without Foundation.
    func pow1p(_ x: Double, _ k: Int) -> Double { (0..<k).reduce(1.0) { r, _ in r * (1 + x) } }
}
