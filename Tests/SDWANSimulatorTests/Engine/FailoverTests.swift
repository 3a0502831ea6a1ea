import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// Failover and duplication through the production engines over modelled links.
@Suite struct FailoverTests {
    /// Sends `count` packets of class `dscp` from branch 0 every `interval`, starting at `start`,
    /// and records at the hub: id → delivery instant.
    static func stream(
        _ network: TunnelNetwork,
        dscp: UInt8,
        start: Instant,
        count: Int,
        interval: TimeSpan,
        until end: Instant,
        during: ((Int, Instant) -> Void)? = nil
    ) -> [UInt32: Instant] {
        var arrivals: [UInt32: Instant] = [:]
        network.onDelivery = { branch, delivery, now in
            if branch == nil, let id = NetworkFixture.id(of: delivery.packet) { arrivals[id] = arrivals[id] ?? now }
        }
        for i in 0..<count { network.simulation.schedule(.action(i), at: start + interval * Int64(i)) }
        network.run(until: end) { id, now in
            if id >= 1_000_000 {
                during?(id, now)
            } else {
                network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: dscp))
            }
        }
        return arrivals
    }

    static func cut(_ network: TunnelNetwork, link l: Int) {
        network.links[0][l].up.cut()
        network.links[0][l].down.cut()
    }

    /// transactional (AF21) is duplicated on the two best links: a blackout of one loses nothing.
    @Test func duplicatedClassLosesNothingWhenOneLinkBlacksOut() {
        let fixture = NetworkFixture(seed: 7, links: TunnelEngineTests.twoLinks())
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(2))
        network.simulation.schedule(.action(1_000_000), at: .zero + .seconds(5))
        let arrivals = Self.stream(
            network,
            dscp: DSCP.af21,
            start: .zero + .seconds(2),
            count: 400,
            interval: .milliseconds(20),
            until: .zero + .seconds(12)
        ) { _, _ in Self.cut(network, link: 1) }
        #expect(arrivals.count == 400, "lost \(400 - arrivals.count) of 400")
        // Each packet arrived once at the hub; the copies were dropped by dedupe (both links carried
        // copies until the cut at 5 s: 150 packets).
        let counters = network.hub.engine(forBranch: "branch0")!.counters(forClass: 2)
        #expect(counters.delivered == 400)
        #expect(counters.duplicatesDropped >= 140)
    }

    /// voice (EF, mode best) rides the faster broadband link; when broadband blacks out, voice
    /// moves to MPLS within the monitor's detection window: M × I = 3 × 100 ms = 300 ms, plus one
    /// probe interval of scheduling slack and the one-way delay of the new path (20 ms): 420 ms.
    @Test func bestClassFailsOverWithinTheDetectionWindow() {
        let fixture = NetworkFixture(seed: 8, links: TunnelEngineTests.twoLinks())
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(3))
        #expect(network.edges[0].choice(forClass: 0).links == [1])
        let cutAt = Instant.zero + .seconds(5)
        network.simulation.schedule(.action(1_000_000), at: cutAt)
        let arrivals = Self.stream(
            network,
            dscp: DSCP.ef,
            start: .zero + .seconds(3),
            count: 250,
            interval: .milliseconds(20),
            until: .zero + .seconds(10)
        ) { _, _ in Self.cut(network, link: 1) }
        let times = arrivals.values.sorted()
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        let longest = gaps.max() ?? .zero
        print("voice failover: longest gap \(longest.milliseconds) ms")
        #expect(longest <= .milliseconds(420), "longest gap \(longest)")
        #expect(network.edges[0].choice(forClass: 0).links == [0])
        // Packets sent before the cut all arrived; those lost were sent inside the window.
        let lost = (0..<250).filter { arrivals[UInt32($0)] == nil }
        #expect(lost.count <= 21, "lost \(lost.count)")
    }

    /// When every allowed link is down the class waits in its bounded hold queue, then drops and
    /// counts; nothing is black-holed silently.
    @Test func allLinksDownHoldsThenDropsAndCounts() {
        let fixture = NetworkFixture(seed: 9, links: TunnelEngineTests.twoLinks())
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(2))
        Self.cut(network, link: 0)
        Self.cut(network, link: 1)
        network.run(until: .zero + .seconds(3))
        #expect(network.edges[0].choice(forClass: 4).links.isEmpty)
        for i in 0..<10 { network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(i), dscp: 0)) }
        network.run(until: .zero + .seconds(4))
        let counters = network.edges[0].counters(forClass: 4)
        #expect(counters.held == 10)
        #expect(counters.holdDropped == 10)
        #expect(network.edges[0].drops[EngineDropReason.holdExpired.rawValue] == 10)
    }

    /// A link that breaks the class's SLA is avoided; when every link breaks it, the least-bad one
    /// carries the class and the packets are counted as sent off-SLA.
    @Test func leastBadLinkCarriesVideoWhenNoLinkMeetsItsSLA() {
        let lossy = LossModel.bernoulli(p: 0.06)
        let veryLossy = LossModel.bernoulli(p: 0.12)
        let fixture = NetworkFixture(
            seed: 10,
            links: [
                (
                    TunnelEngineTests.mpls, NetworkFixture.link(delayMs: 20, loss: lossy),
                    NetworkFixture.link(delayMs: 20, loss: lossy)
                ),
                (
                    TunnelEngineTests.broadband, NetworkFixture.link(delayMs: 10, loss: veryLossy),
                    NetworkFixture.link(delayMs: 10, loss: veryLossy)
                ),
            ]
        )
        let network = fixture.network
        network.start()
        _ = Self.stream(
            network,
            dscp: DSCP.af41,
            start: .zero + .seconds(1),
            count: 1_500,
            interval: .milliseconds(10),
            until: .zero + .seconds(20)
        )
        // Video.s SLA is 1 % loss: neither link meets it, MPLS (6 %) is the least bad.
        #expect(network.edges[0].choice(forClass: 1) == PathChoice(links: [0], reason: .leastBad))
        #expect(network.edges[0].counters(forClass: 1).sentOffSLA > 0)
    }
}
