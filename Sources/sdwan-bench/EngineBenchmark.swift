import CMallocCounter
import CSodium
import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator

/// An edge engine with three links and the default class table, its session established and its
/// links up against a real hub endpoint over zero-loss simulated links (2 s of virtual time).
private func establishedEdge(fec: Bool) -> TunnelEngine {
    var random = SeededRandomSource(seed: 5)
    let edgeKey = PrivateKey.generate(using: &random)
    let hubKey = PrivateKey.generate(using: &random)
    var policies = [ClassFECPolicy?](repeating: nil, count: DefaultClasses.classes.count)
    if fec { policies[DefaultClasses.classes.count - 1] = ClassFECPolicy(groupSize: 4, stride: 10) }
    let hub = HubEndpoint(privateKey: hubKey, random: random.derived(1))
    let network = TunnelNetwork(hub: hub)
    hub.addBranch(
        HubBranchConfiguration(
            name: "bench",
            publicKey: edgeKey.publicKey,
            allowedPrefixes: [IPPrefix("10.1.0.0/16")!],
            engine: EngineConfiguration(links: [], fec: policies)
        ),
        presharedKey: PresharedKey.none(),
        now: .zero,
        wallTime: network.wallTime(.zero)
    )
    let links = (0..<3).map { EngineLinkConfiguration(id: UInt8($0), name: "link\($0)", tier: 1, cost: $0) }
    let model = LinkDirectionParameters(baseDelay: .milliseconds(10))
    network.addEdge(
        configuration: EngineConfiguration(links: links, fec: policies),
        session: EdgeSession(localStatic: edgeKey, hubPublicKey: hub.publicKey, presharedKey: PresharedKey.none()),
        models: Array(repeating: (model, model), count: 3),
        random: random.derived(2)
    )
    network.start()
    network.run(until: .zero + .seconds(2))
    precondition(network.edges[0].isEstablished, "the simulated handshake did not complete")
    return network.edges[0]
}

/// A 1400-byte inner IPv4/UDP packet in the default class (DSCP 0), from the branch LAN to the
/// data centre, optionally with the headroom and tailroom the I/O ring leaves.
private func innerPacket(roomy: Bool = false) -> ByteBuffer {
    udpPacket(size: 1_400, source: 0x0A01_0005, destination: 0x0AC8_0009, port: 443, roomy: roomy)
}

/// The engine's per-packet send cost (classify + select + frame + seal, 1400 B, three links, the
/// default rule table) against one bare libsodium seal of 1400 bytes, and heap allocations per
/// packet counted by interposing malloc/calloc/realloc.
let engineBenchmark = Benchmark(
    name: "engine",
    summary: "TunnelEngine send path (classify + schedule + seal, 1400 B, 3 links, default rules) vs bare seal"
) {
    let packet = innerPacket()
    for fec in [false, true] {
        let engine = establishedEdge(fec: fec)
        // Virtual time moves 1 ns per packet, so no monitor timer comes due while measuring.
        var now = Instant.zero + .seconds(2)
        var sink = 0
        let ours = nanosecondsPerOperation(iterations: 100_000) {
            now += .nanoseconds(1)
            engine.handleInnerPacket(packet, now: now)
            while let t = engine.pollTransmit() { sink &+= t.datagram.readableBytes }
        }
        let before = sdwan_malloc_count()
        let n = 100_000
        for _ in 0..<n {
            now += .nanoseconds(1)
            engine.handleInnerPacket(packet, now: now)
            while let t = engine.pollTransmit() { sink &+= t.datagram.readableBytes }
        }
        let allocations = Double(sdwan_malloc_count() - before) / Double(n)
        // The same with packets that carry headroom (as the I/O ring reads them): built in place.
        let batch = max(1, Int(30_000 * benchmarkScale))
        var roomyBest = Double.infinity
        var roomyAllocations = 0.0
        for _ in 0..<3 {
            var packets = (0..<batch).map { _ in innerPacket(roomy: true) }
            let startCount = sdwan_malloc_count()
            let elapsed = ContinuousClock().measure {
                // popLast hands over the only reference, as the I/O ring does with a packet it read.
                while let p = packets.popLast() {
                    now += .nanoseconds(1)
                    engine.handleInnerPacket(consume p, now: now)
                    while let t = engine.pollTransmit() { sink &+= t.datagram.readableBytes }
                }
            }
            roomyAllocations = Double(sdwan_malloc_count() - startCount) / Double(batch)
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            roomyBest = min(roomyBest, ns / Double(batch))
        }
        blackHole(sink)
        let bare = bareSealNanoseconds()
        let state = engine.choice(forClass: DefaultClasses.classes.count - 1)
        let label = fec ? "engine send + FEC k = 4" : "engine send"
        report(label, subject: ours, baseline: bare, goal: fec ? "≤ 1.3× a bare seal" : "≤ 1.3× a bare seal (context)")
        print("  links used \(state.links) (\(state.reason)); heap allocations per packet: \(allocations)")
        report(label + ", packets with headroom", subject: roomyBest, baseline: bare, goal: "≤ 1.3× a bare seal")
        print("  heap allocations per packet with headroom: \(roomyAllocations)")
    }
}
