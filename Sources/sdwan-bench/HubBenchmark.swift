import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator

/// A hub endpoint with `branches` configured branches, branch 0 connected through a real edge
/// engine over a zero-loss simulated link (2 s of virtual time for the handshake); the others are
/// configured but silent, as most of a concentrator's branches are between their probes.
private func hubWithBranches(_ branches: Int) -> (network: TunnelNetwork, edge: TunnelEngine) {
    var random = SeededRandomSource(seed: 9)
    let hub = HubEndpoint(privateKey: PrivateKey.generate(using: &random), random: random.derived(1))
    let network = TunnelNetwork(hub: hub)
    let edgeKey = PrivateKey.generate(using: &random)
    for b in 0..<branches {
        let key = b == 0 ? edgeKey.publicKey : PrivateKey.generate(using: &random).publicKey
        hub.addBranch(
            HubBranchConfiguration(
                name: "branch\(b)",
                publicKey: key,
                allowedPrefixes: [IPPrefix(address: .v4(0x0A00_0000 | UInt32(b + 1) << 8), length: 24)!],
                engine: EngineConfiguration(links: [])
            ),
            presharedKey: PresharedKey.none(),
            now: .zero,
            wallTime: network.wallTime(.zero)
        )
    }
    let model = LinkDirectionParameters(baseDelay: .milliseconds(10))
    network.addEdge(
        configuration: EngineConfiguration(links: [EngineLinkConfiguration(id: 0, name: "link0")]),
        session: EdgeSession(localStatic: edgeKey, hubPublicKey: hub.publicKey, presharedKey: PresharedKey.none()),
        models: [(model, model)],
        random: random.derived(2)
    )
    network.start()
    network.run(until: .zero + .seconds(2))
    precondition(network.edges[0].isEstablished, "the simulated handshake did not complete")
    return (network, network.edges[0])
}

/// A 200-byte inner IPv4/UDP packet from branch 0's LAN (10.0.1.5) to the data centre.
private func branchPacket() -> ByteBuffer {
    udpPacket(size: 200, source: 0x0A00_0105, destination: 0x0AC8_0009, port: 5_060)
}

/// The hub's cost per received datagram (open, deliver, drain, and the next deadline the node arms
/// its timer with, as `HubNode` does after every input) as the number of configured branches grows:
/// a concentrator's per-packet work must not grow with the branches it terminates.
let hubBenchmark = Benchmark(
    name: "hub",
    summary: "hub receive path per datagram (open + deliver + drain + next deadline) with 1, 100, 1 000 branches"
) {
    let batch = max(1, Int(20_000 * benchmarkScale))
    var single = 0.0
    for branches in [1, 100, 1_000] {
        let (network, edge) = hubWithBranches(branches)
        let hub = network.hub
        let source = TunnelNetwork.linkAddress(branch: 0, link: 0)
        var now = network.simulation.now
        var best = Double.infinity
        var delivered = 0
        for _ in 0..<3 {
            // Fresh datagrams every round: the replay window would drop repeats.
            var datagrams: [ByteBuffer] = []
            datagrams.reserveCapacity(batch)
            for _ in 0..<batch {
                now += .nanoseconds(1)
                edge.handleInnerPacket(branchPacket(), now: now)
                while let t = edge.pollTransmit() { datagrams.append(t.datagram) }
            }
            while edge.pollDelivery() != nil {}
            while edge.pollEvent() != nil {}
            let elapsed = ContinuousClock().measure {
                for d in datagrams {
                    hub.handleDatagram(d, listener: 0, source: source, now: now)
                    while hub.pollTransmit() != nil {}
                    while hub.pollDelivery() != nil { delivered += 1 }
                    while hub.pollEvent() != nil {}
                    blackHole(hub.nextDeadline())
                }
            }
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best = min(best, ns / Double(datagrams.count))
        }
        precondition(delivered > 0, "the hub delivered nothing")
        if branches == 1 { single = best }
        report(
            "hub datagram, \(branches) branch\(branches == 1 ? "" : "es")",
            subject: best,
            baseline: single,
            goal: branches == 1 ? "(baseline)" : "≤ 1.5× one branch"
        )
    }
}
