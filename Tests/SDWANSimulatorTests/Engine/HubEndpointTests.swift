import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// Cryptokey routing, branch-to-branch rules, endpoint roaming and downstream policy at the hub.
@Suite struct HubEndpointTests {
    static func established(_ fixture: NetworkFixture) -> TunnelNetwork {
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(2))
        return network
    }

    @Test func spoofedInnerSourceIsDroppedAndCounted() {
        let network = Self.established(NetworkFixture(seed: 20, links: TunnelEngineTests.twoLinks()))
        var delivered = 0
        network.onDelivery = { branch, _, _ in if branch == nil { delivered += 1 } }
        // Branch 0 owns 10.1.0.0/16; a packet claiming 10.2.0.5 (branch 1's space) is refused.
        network.sendFromEdge(0, NetworkFixture.packet(branch: 1, id: 1, dscp: 0))
        network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: 2, dscp: 0))
        network.run(until: .zero + .seconds(3))
        #expect(delivered == 1)
        #expect(network.hub.drops[HubDropReason.spoofedSource.rawValue] == 1)
    }

    @Test func branchToBranchIsDeniedByDefaultAndAllowedByARule() {
        for allowed in [false, true] {
            let rules = allowed ? [BranchForwardingRule(fromBranch: "branch0", toBranch: "branch1")] : []
            let network = Self.established(
                NetworkFixture(seed: 21, branches: 2, links: TunnelEngineTests.twoLinks(), forwardingRules: rules)
            )
            var atBranch1 = 0
            network.onDelivery = { branch, _, _ in if branch == 1 { atBranch1 += 1 } }
            for i in 0..<5 {
                network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(i), dscp: 0, toBranch: 1))
            }
            network.run(until: .zero + .seconds(3))
            #expect(atBranch1 == (allowed ? 5 : 0))
            #expect(network.hub.drops[HubDropReason.forwardingDenied.rawValue] == (allowed ? 0 : 5))
        }
    }

    /// A replayed datagram from a new address must not move the branch's endpoint; a real NAT
    /// rebinding (new source port, fresh authenticated packets) must.
    @Test func replayFromNewAddressDoesNotMoveTheEndpointButARebindingDoes() throws {
        let network = Self.established(NetworkFixture(seed: 22, links: TunnelEngineTests.twoLinks()))
        let engine = try #require(network.hub.engine(forBranch: "branch0"))
        let original = network.links[0][1].address
        #expect(engine.linkDestination(1) == original)
        // Capture a datagram the edge sends on link 1 (default class: best link, broadband).
        var captured: ByteBuffer?
        let edge = network.edges[0]
        edge.handleInnerPacket(NetworkFixture.packet(branch: 0, id: 2, dscp: 0), now: network.simulation.now)
        while let t = edge.pollTransmit() {
            if t.linkID == 1 && captured == nil { captured = t.datagram }
        }
        let datagram = try #require(captured)
        // Deliver it once from the real address, then replay it from an attacker's address.
        network.hub.handleDatagram(datagram, listener: 0, source: original, now: network.simulation.now)
        network.drainHub(now: network.simulation.now)
        let attacker = UDPEndpoint("203.0.113.66:4444")!
        network.hub.handleDatagram(datagram, listener: 0, source: attacker, now: network.simulation.now)
        #expect(engine.linkDestination(1) == original)
        #expect(network.hub.drops[HubDropReason.openFailed.rawValue] >= 1)
        // A real rebinding: the link now comes from another port; its packets are fresh.
        network.rebind(branch: 0, link: 1, port: 41_234)
        var delivered = 0
        network.onDelivery = { branch, _, _ in if branch == nil { delivered += 1 } }
        for i in 0..<20 { network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(10 + i), dscp: 0)) }
        network.run(until: network.simulation.now + .seconds(1))
        #expect(engine.linkDestination(1) == network.links[0][1].address)
        #expect(engine.linkDestination(1)?.port == 41_234)
        #expect(delivered == 20)
    }

    /// The edge announces its links; the hub keeps downstream bulk off the metered LTE link while
    /// the primaries meet the SLA, and sends it there only as a last resort… never, for bulk,
    /// since bulk does not use metered links at all.
    @Test func meteredLinkCarriesNoDownstreamBulkWhilePrimariesMeetTheSLA() throws {
        let links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)] = [
            (TunnelEngineTests.mpls, NetworkFixture.link(delayMs: 20), NetworkFixture.link(delayMs: 20)),
            (TunnelEngineTests.broadband, NetworkFixture.link(delayMs: 10), NetworkFixture.link(delayMs: 10)),
            (TunnelEngineTests.lte, NetworkFixture.link(delayMs: 5), NetworkFixture.link(delayMs: 5)),
        ]
        let network = Self.established(NetworkFixture(seed: 23, links: links))
        let engine = try #require(network.hub.engine(forBranch: "branch0"))
        #expect(engine.peerLinks.map(\.name) == ["mpls", "broadband", "lte"])
        #expect(engine.linkConfiguration(2)?.metered == true)
        let lteBefore = engine.linkTraffic(2)!.packetsSent
        for i in 0..<200 {
            network.sendFromHub(NetworkFixture.reply(branch: 0, id: UInt32(i), dscp: DSCP.af11, payload: 1_000))
        }
        network.run(until: .zero + .seconds(4))
        // Probes and reports still go over LTE (standby interval); no bulk data does.
        let lteData = engine.counters(forClass: 3)
        #expect(lteData.delivered == 0 && lteData.sent == 200)
        let lteSent = engine.linkTraffic(2)!.packetsSent - lteBefore
        #expect(lteSent < 20, "\(lteSent) packets went down the metered link")
        #expect(!engine.choice(forClass: 3).links.contains(2))
        // With both primaries cut, bulk waits rather than use LTE.
        for l in 0..<2 {
            network.links[0][l].up.cut()
            network.links[0][l].down.cut()
        }
        network.run(until: .zero + .seconds(6))
        #expect(engine.choice(forClass: 3).links.isEmpty)
        #expect(engine.choice(forClass: 0).links == [2])
    }
}

@Suite struct OuterHeaderTests {
    /// The hub counts the outer header of the family a link is reached at: the link is learnt
    /// over IPv4 (28 bytes), then moves to IPv6 (48 bytes), and its inner MTU — the smallest
    /// link's — drops by exactly the 20 bytes more header, while traffic keeps flowing both ways.
    @Test func aLinkMovingToIPv6CountsTheLongerHeader() throws {
        var links = TunnelEngineTests.twoLinks()
        links[0].config.mtu = 1_500
        links[1].config.mtu = 1_400
        let network = HubEndpointTests.established(NetworkFixture(seed: 71, links: links))
        let engine = try #require(network.hub.engine(forBranch: "branch0"))
        #expect(engine.linkConfiguration(1)?.ipv6Outer == false)
        let before = engine.innerMTU
        network.rebind(branch: 0, link: 1, to: UDPEndpoint("[2001:db8::7]:40000")!)
        var atHub = 0
        var atEdge = 0
        network.onDelivery = { branch, _, _ in if branch == nil { atHub += 1 } else { atEdge += 1 } }
        // The edge speaks first from the new address (the hub learns it from authenticated
        // packets), then the hub answers there.
        for i in 0..<20 { network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(100 + i), dscp: 0)) }
        network.run(until: network.simulation.now + .seconds(1))
        for i in 0..<20 { network.sendFromHub(NetworkFixture.reply(branch: 0, id: UInt32(200 + i), dscp: 0)) }
        network.run(until: network.simulation.now + .seconds(1))
        #expect(engine.linkDestination(1) == UDPEndpoint("[2001:db8::7]:40000")!)
        #expect(engine.linkConfiguration(1)?.ipv6Outer == true)
        #expect(before - engine.innerMTU == WireFormat.outerIPv6UDPLength - WireFormat.outerIPv4UDPLength)
        #expect(atHub == 20, "at the hub: \(atHub)")
        #expect(atEdge == 20, "at the edge: \(atEdge), hub unroutable: \(network.unroutable)")
    }
}

@Suite struct AnnouncementBoundsTests {
    /// An authenticated edge announcing a nonsense MTU (0 or 65 535) cannot drive the hub's inner
    /// MTU out of range: the MTU is clamped to 576…9216 and traffic still flows.
    @Test func absurdAnnouncedMTUIsClamped() throws {
        var links = TunnelEngineTests.twoLinks()
        links[0].config.mtu = 0
        links[1].config.mtu = 65_535
        let network = HubEndpointTests.established(NetworkFixture(seed: 70, links: links))
        let engine = try #require(network.hub.engine(forBranch: "branch0"))
        #expect(engine.linkConfiguration(0)?.mtu == 576)
        #expect(engine.linkConfiguration(1)?.mtu == 9_216)
        #expect(engine.innerMTU > 0)
    }
}
