import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// Bulk striping over unequal links (issue: balance mode), through the production engines.
@Suite struct BalanceTests {
    /// 10 + 20 Mbit/s links with 20 / 40 ms RTT, shaped by sdwan at their rates; bulk (AF11,
    /// `balance`) offered at 29 Mbit/s in 8 flows for 10 s. Goals: goodput ≥ 90 % of the summed
    /// 30 Mbit/s; reorder hold ≤ ΔRTT/2… the receiver holds one-way skew (10 ms) + 10 ms, so no
    /// packet waits more than 20 ms ≤ ΔRTT + 10 ms = 30 ms; every flow delivered in order.
    @Test func bulkUsesTheSumOfTwoUnequalLinksInOrderPerFlow() {
        let fast = EngineLinkConfiguration(id: 0, name: "cable", shapedUpBitsPerSecond: 20_000_000)
        let slow = EngineLinkConfiguration(id: 1, name: "dsl", shapedUpBitsPerSecond: 10_000_000)
        let links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)] = [
            (fast, NetworkFixture.link(delayMs: 10, rate: 21_000_000), NetworkFixture.link(delayMs: 10)),
            (slow, NetworkFixture.link(delayMs: 20, rate: 10_500_000), NetworkFixture.link(delayMs: 20)),
        ]
        let fixture = NetworkFixture(seed: 40, links: links)
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(2))
        var deliveredBytes = 0
        var lastIDPerFlow: [UInt32: UInt32] = [:]
        var outOfOrder = 0
        let start = Instant.zero + .seconds(2)
        let end = start + .seconds(10)
        network.onDelivery = { branch, delivery, now in
            guard branch == nil, now <= end + .milliseconds(100), let id = NetworkFixture.id(of: delivery.packet) else {
                return
            }
            deliveredBytes += delivery.packet.readableBytes
            let flow = id % 8
            if let last = lastIDPerFlow[flow], id < last { outOfOrder += 1 }
            lastIDPerFlow[flow] = id
        }
        // 1200-byte packets every 331 µs ≈ 29 Mbit/s.
        let count = 30_200
        for i in 0..<count { network.simulation.schedule(.action(i), at: start + .nanoseconds(Int64(i) * 331_000)) }
        network.run(until: end + .milliseconds(200)) { id, _ in
            var packet = NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.af11, payload: 1_172)
            packet.setInteger(UInt16(40_000 + id % 8), at: 20)  // 8 flows by source port
            network.sendFromEdge(0, packet)
        }
        let goodput = Double(deliveredBytes) * 8 / 10
        print("balance: goodput \(goodput / 1e6) Mbit/s of 30, out of order \(outOfOrder)")
        let hub = network.hub.engine(forBranch: "branch0")!
        let reorder = hub.reorderCounters(forClass: 3)
        print("balance: reorder \(String(describing: reorder))")
        #expect(goodput >= 0.9 * 30e6)
        #expect(outOfOrder == 0)
        #expect((reorder?.longestHold ?? .seconds(1)) <= .milliseconds(30))
        #expect(network.edges[0].choice(forClass: 3).links.count == 2)
    }
}
