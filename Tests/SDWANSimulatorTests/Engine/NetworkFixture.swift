import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator

/// A hub with branches over modelled links, for engine tests (the production wiring in
/// `TunnelNetwork`, the simulator's event loop and link models: no third copy of either).
struct NetworkFixture {
    static let dataCentre = IPPrefix("10.200.0.0/16")!

    let network: TunnelNetwork
    var deliveredAtHub: [(Delivery, Instant)] = []

    /// Link parameters: a fixed one-way delay, optional loss, no jitter.
    static func link(delayMs: Int64, loss: LossModel = .none, rate: Int64? = nil) -> LinkDirectionParameters {
        var p = LinkDirectionParameters(baseDelay: .milliseconds(delayMs))
        p.loss = loss
        if let rate { p.rate = RateLimit(bitsPerSecond: rate, queueLimit: .packets(200)) }
        return p
    }

    static func branchPrefix(_ b: Int) -> IPPrefix { IPPrefix("10.\(b + 1).0.0/16")! }

    /// An inner IPv4/UDP packet from branch `b`'s LAN to the data centre, `payload` bytes long,
    /// numbered by `id` (first 4 payload bytes) and marked with `dscp`.
    static func packet(branch b: Int, id: UInt32, dscp: UInt8, payload: Int = 160, toBranch: Int? = nil) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 28 + payload)
        let source = UInt32(0x0A00_0005) | UInt32(b + 1) << 16
        let destination = toBranch.map { UInt32(0x0A00_0009) | UInt32($0 + 1) << 16 } ?? 0x0AC8_0009
        buffer.writeMultipleIntegers(UInt8(0x45), dscp << 2, UInt16(28 + payload), UInt16(0), UInt16(0x4000))
        buffer.writeMultipleIntegers(UInt8(64), UInt8(17), UInt16(0), source, destination)
        buffer.writeMultipleIntegers(UInt16(40_000), UInt16(5_004), UInt16(8 + payload), UInt16(0))
        buffer.writeInteger(id)
        buffer.writeRepeatingByte(UInt8(truncatingIfNeeded: id), count: payload - 4)
        return buffer
    }

    /// The same packet from the data centre to branch `b` (source and destination swapped).
    static func reply(branch b: Int, id: UInt32, dscp: UInt8, payload: Int = 160) -> ByteBuffer {
        var packet = Self.packet(branch: b, id: id, dscp: dscp, payload: payload)
        let s: UInt32 = packet.getInteger(at: 12)!
        let d: UInt32 = packet.getInteger(at: 16)!
        packet.setInteger(d, at: 12)
        packet.setInteger(s, at: 16)
        return packet
    }

    /// The id a test packet carries.
    static func id(of packet: ByteBuffer) -> UInt32? { packet.getInteger(at: packet.readerIndex + 28) }

    /// A network of one hub and `branches` edges, each with the given links.
    init(
        seed: UInt64,
        branches: Int = 1,
        links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)],
        classes: [TrafficClass] = DefaultClasses.classes,
        fec: [ClassFECPolicy?]? = nil,
        forwardingRules: [BranchForwardingRule] = []
    ) {
        var random = SeededRandomSource(seed: seed)
        let hubKey = PrivateKey.generate(using: &random)
        let hub = HubEndpoint(privateKey: hubKey, forwardingRules: forwardingRules, random: random.derived(1))
        network = TunnelNetwork(hub: hub)
        for b in 0..<branches {
            let edgeKey = PrivateKey.generate(using: &random)
            let psk = PresharedKey.generate(using: &random)
            let engineConfig = EngineConfiguration(links: links.map(\.config), classes: classes, fec: fec)
            hub.addBranch(
                HubBranchConfiguration(
                    name: "branch\(b)",
                    publicKey: edgeKey.publicKey,
                    allowedPrefixes: [Self.branchPrefix(b)],
                    engine: EngineConfiguration(links: [], classes: classes, fec: fec)
                ),
                presharedKey: psk,
                now: .zero,
                wallTime: network.wallTime(.zero)
            )
            let session = EdgeSession(localStatic: edgeKey, hubPublicKey: hub.publicKey, presharedKey: psk)
            network.addEdge(
                configuration: engineConfig,
                session: session,
                models: links.map { ($0.up, $0.down) },
                random: random.derived(100 + UInt64(b))
            )
        }
    }
}
