import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

@Suite struct HubRestartTests {
    /// The hub loses every session (a restart: a new endpoint with the same keys) at 5 s. The edge
    /// sees its links fall silent, re-handshakes at once, and voice flows again within 1 s of the
    /// hub answering (docs/crypto.md "Lifecycle"): detection ≈ 300 ms + a round trip.
    @Test func tunnelIsBackWithinASecondAfterAHubRestart() {
        var random = SeededRandomSource(seed: 60)
        let hubKey = PrivateKey.generate(using: &random)
        let edgeKey = PrivateKey.generate(using: &random)
        let links = TunnelEngineTests.twoLinks()
        func makeHub(_ seed: UInt64) -> HubEndpoint {
            let hub = HubEndpoint(privateKey: hubKey, random: SeededRandomSource(seed: seed))
            hub.addBranch(
                HubBranchConfiguration(
                    name: "branch0",
                    publicKey: edgeKey.publicKey,
                    allowedPrefixes: [NetworkFixture.branchPrefix(0)],
                    engine: EngineConfiguration(links: [])
                ),
                presharedKey: PresharedKey.none(),
                now: .zero,
                wallTime: WallTime(secondsSinceEpoch: 1_800_000_000, nanoseconds: 0)
            )
            return hub
        }
        let network = TunnelNetwork(hub: makeHub(1))
        network.addEdge(
            configuration: EngineConfiguration(links: links.map(\.config)),
            session: EdgeSession(
                localStatic: edgeKey,
                hubPublicKey: hubKey.publicKey,
                presharedKey: PresharedKey.none()
            ),
            models: links.map { ($0.up, $0.down) },
            random: random.derived(9)
        )
        var log: [String] = []
        network.onEvent = { branch, event, now in
            switch event {
            case .link(let id, let e):
                log.append("\(now) \(branch.map(String.init) ?? "hub") link \(id) → \(e.to) \(e.reason)")
            case .session(let s): log.append("\(now) \(branch.map(String.init) ?? "hub") \(s)")
            default: break
            }
        }
        var arrivals: [Instant] = []
        var downstream: [Instant] = []
        network.onDelivery = { branch, _, now in
            if branch == nil { arrivals.append(now) } else { downstream.append(now) }
        }
        network.start()
        for i in 0..<500 { network.simulation.schedule(.action(i), at: .zero + .milliseconds(Int64(i) * 20)) }
        network.simulation.schedule(.action(1_000_000), at: .zero + .seconds(5))
        network.run(until: .zero + .seconds(10)) { id, _ in
            if id == 1_000_000 {
                network.replaceHub(makeHub(2))
            } else {
                network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef))
                network.sendFromHub(NetworkFixture.reply(branch: 0, id: UInt32(id), dscp: DSCP.ef))
            }
        }
        let resumed = arrivals.first { $0 > .zero + .seconds(5) } ?? .zero + .seconds(99)
        let resumedDown = downstream.first { $0 > .zero + .seconds(5) } ?? .zero + .seconds(99)
        if max(resumed, resumedDown) > .zero + .milliseconds(6_500) { for line in log { print(line) } }
        print("hub restart at 5 s: voice resumed at \(resumed) upstream, \(resumedDown) downstream")
        // Detection (≤ 400 ms) + handshake round trip (≤ 100 ms) + links back (≤ 1 s).
        #expect(resumed <= .zero + .milliseconds(6_500))
        #expect(resumedDown <= .zero + .milliseconds(6_500))
        // And it stays: no gap over 100 ms after the resumption, either way.
        for series in [arrivals, downstream] {
            let after = series.filter { $0 >= .zero + .milliseconds(6_500) }
            let gaps = zip(after, after.dropFirst()).map { $1 - $0 }
            #expect((gaps.max() ?? .zero) <= .milliseconds(100))
        }
    }
}
