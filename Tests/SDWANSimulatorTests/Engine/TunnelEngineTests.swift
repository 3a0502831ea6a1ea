import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

@Suite struct TunnelEngineTests {
    static let mpls = EngineLinkConfiguration(id: 0, name: "mpls", tier: 1, cost: 5)
    static let broadband = EngineLinkConfiguration(id: 1, name: "broadband", tier: 1, cost: 1)
    static let lte = EngineLinkConfiguration(id: 2, name: "lte", tier: 2, cost: 50, metered: true)

    static func twoLinks() -> [(
        config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters
    )] {
        [
            (mpls, NetworkFixture.link(delayMs: 20), NetworkFixture.link(delayMs: 20)),
            (broadband, NetworkFixture.link(delayMs: 10), NetworkFixture.link(delayMs: 10)),
        ]
    }

    @Test func handshakeCompletesAndTrafficFlowsBothWays() throws {
        var fixture = NetworkFixture(seed: 1, links: Self.twoLinks())
        let network = fixture.network
        var atHub: [UInt32] = []
        var atEdge: [UInt32] = []
        network.onDelivery = { branch, delivery, _ in
            if branch == nil {
                atHub.append(NetworkFixture.id(of: delivery.packet)!)
            } else {
                atEdge.append(delivery.packet.getInteger(at: delivery.packet.readerIndex + 28)!)
            }
        }
        network.start()
        network.run(until: .zero + .seconds(2))
        #expect(network.edges[0].isEstablished)
        #expect(network.edges[0].linkStatus(0) == .up && network.edges[0].linkStatus(1) == .up)
        for id in 0..<100 as Range<UInt32> {
            network.simulation.schedule(.action(Int(id)), at: .zero + .seconds(2) + .milliseconds(Int64(id) * 20))
        }
        network.run(until: .zero + .seconds(6)) { id, _ in
            network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef))
            network.sendFromHub(NetworkFixture.reply(branch: 0, id: UInt32(id), dscp: DSCP.ef))
        }
        #expect(atHub == Array(0..<100))
        #expect(atEdge == Array(0..<100))
        _ = fixture
        fixture.deliveredAtHub = []
    }
}
