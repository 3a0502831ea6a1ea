import CSodium
import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator

/// The balance path (bulk striped over two shaped links by earliest expected delivery, flow
/// numbering) and the receiver's per-flow reorder stage.
let balanceBenchmark = Benchmark(
    name: "balance",
    summary: "balance send path (2 shaped links, 8 flows, 1400 B) vs bare seal; FlowReorder vs DedupeWindow"
) {
    var random = SeededRandomSource(seed: 8)
    let edgeKey = PrivateKey.generate(using: &random)
    let hubKey = PrivateKey.generate(using: &random)
    let hub = HubEndpoint(privateKey: hubKey, random: random.derived(1))
    let network = TunnelNetwork(hub: hub)
    hub.addBranch(
        HubBranchConfiguration(
            name: "bench",
            publicKey: edgeKey.publicKey,
            allowedPrefixes: [IPPrefix("10.1.0.0/16")!],
            engine: EngineConfiguration(links: [])
        ),
        presharedKey: PresharedKey.none(),
        now: .zero,
        wallTime: network.wallTime(.zero)
    )
    // Shaped far above the offered load so the bench measures the path, not the shaper waiting.
    let links = [
        EngineLinkConfiguration(id: 0, name: "cable", shapedUpBitsPerSecond: 20_000_000_000),
        EngineLinkConfiguration(id: 1, name: "dsl", shapedUpBitsPerSecond: 10_000_000_000),
    ]
    network.addEdge(
        configuration: EngineConfiguration(links: links),
        session: EdgeSession(localStatic: edgeKey, hubPublicKey: hub.publicKey, presharedKey: PresharedKey.none()),
        models: [
            (
                LinkDirectionParameters(baseDelay: .milliseconds(10)),
                LinkDirectionParameters(baseDelay: .milliseconds(10))
            ),
            (
                LinkDirectionParameters(baseDelay: .milliseconds(20)),
                LinkDirectionParameters(baseDelay: .milliseconds(20))
            ),
        ],
        random: random.derived(2)
    )
    network.start()
    network.run(until: .zero + .seconds(2))
    let engine = network.edges[0]
    let bulk = 3
    var packets: [ByteBuffer] = (0..<8).map { flow in
        var b = ByteBufferAllocator().buffer(capacity: 1_400)
        b.writeMultipleIntegers(UInt8(0x45), DSCP.af11 << 2, UInt16(1_400), UInt16(0), UInt16(0x4000))
        b.writeMultipleIntegers(UInt8(64), UInt8(6), UInt16(0), UInt32(0x0A01_0005), UInt32(0x0AC8_0009))
        b.writeMultipleIntegers(UInt16(40_000 + flow), UInt16(443))
        b.writeRepeatingByte(0x5A, count: 1_400 - 24)
        return b
    }
    var now = Instant.zero + .seconds(2)
    var sink = 0
    var i = 0
    var sealed = 0
    // 1 µs of virtual time per packet: 11 Gbit/s offered, under the 30 Gbit/s shaped, so every
    // packet leaves (the monitors' timers are not run, so the links stay as they are).
    let ours = nanosecondsPerOperation(iterations: 100_000) {
        now += .microseconds(1)
        engine.handleInnerPacket(packets[i & 7], now: now)
        i &+= 1
        while let t = engine.pollTransmit() {
            sink &+= t.datagram.readableBytes
            sealed &+= 1
        }
    }
    let bare = bareSealNanoseconds()
    packets.removeAll()
    let shaped = engine.shaperDrops(0)!.reduce(0, +) + engine.shaperDrops(1)!.reduce(0, +)
    print(
        "  bulk on links \(engine.choice(forClass: bulk).links) (\(engine.choice(forClass: bulk).reason)); \(sealed) datagrams sealed, \(shaped) shaper drops"
    )
    report(
        "balance send (classify + ECF pick + flow number + seal)",
        subject: ours,
        baseline: bare,
        goal: "≤ 1.3× a bare seal"
    )

    // The reorder stage: 64 flows, every other pair of a flow's packets swapped (half the packets
    // wait for one packet), against the dedupe window it follows.
    var reorder = FlowReorder()
    let payload = ByteBufferAllocator().buffer(capacity: 0)
    // Each flow starts at 0; then its packets come in swapped pairs (2, 1), (4, 3), …
    var sequences = [UInt32](repeating: 1, count: 64)
    for flow in 0..<64 {
        reorder.receive(flowID: UInt16(flow), sequence: 0, packet: payload, recovered: false, now: .zero) { _, _ in }
    }
    var n = 0
    let stage = nanosecondsPerOperation(iterations: 200_000) {
        let flow = n & 63
        let base = sequences[flow]
        let second = (n >> 6) & 1 == 1
        let sequence = second ? base : base &+ 1
        if second { sequences[flow] = base &+ 2 }
        reorder.receive(flowID: UInt16(flow), sequence: sequence, packet: payload, recovered: false, now: .zero) {
            _,
            _ in
            sink &+= 1
        }
        n &+= 1
    }
    var dedupe = DedupeWindow(size: 65_536)
    var s: UInt64 = 0
    let window = nanosecondsPerOperation(iterations: 200_000) {
        s &+= 1
        if dedupe.accept(s) == .new { sink &+= 1 }
    }
    blackHole(sink)
    report(
        "FlowReorder.receive (64 flows, half out of order)",
        subject: stage,
        baseline: window,
        goal: "context: the dedupe stage before it"
    )
}
