import NIOCore
import SDWANCore

/// Edges and a hub endpoint joined by ideal links of a fixed one-way delay, in virtual time: the
/// smallest harness that lets reload tests watch both ends (quinn-proto's `Pair`).
///
/// Edge `e`'s link `id` sends from 192.0.2.1:(5000 + 256·e + id) to the hub's listener `id` at
/// 198.51.100.1:(4500 + id). A link in `cut` drops everything in both directions.
final class ReloadPair {
    struct InFlight {
        var at: Instant
        var order: Int
        var toHub: Bool
        var edge: Int
        var linkID: UInt8
        var datagram: ByteBuffer
    }

    let hub: HubEndpoint
    var edges: [TunnelEngine] = []
    var now = Instant.zero
    let delay: TimeSpan
    var inFlight: [InFlight] = []
    var order = 0
    var cut: Set<UInt8> = []
    /// Inner packets delivered at the hub (to the data centre) and at each edge, by class.
    var deliveredAtHub: [(classIndex: Int, id: UInt32)] = []
    var deliveredAtEdge: [[(classIndex: Int, id: UInt32)]] = []
    /// Session events seen at each edge and at the hub (handshakes and rekeys are counted here).
    var edgeSessionEvents: [[SessionEvent]] = []
    var hubSessionEvents: [(branch: String, event: SessionEvent)] = []
    let wall = WallTime(secondsSinceEpoch: 1_800_000_000, nanoseconds: 0)

    static func branchPrefix(_ e: Int) -> IPPrefix { IPPrefix("10.\(e + 1).0.0/16")! }
    static func edgeSource(_ e: Int, _ id: UInt8) -> UDPEndpoint {
        UDPEndpoint(address: IPAddress("192.0.2.1")!, port: 5_000 + 256 * UInt16(e) + UInt16(id))
    }
    static func hubAddress(_ id: UInt8) -> UDPEndpoint {
        UDPEndpoint(address: IPAddress("198.51.100.1")!, port: 4_500 + UInt16(id))
    }

    /// A link as the edge configures it (its destination is the hub's listener for its id).
    static func link(_ id: UInt8, _ name: String, tier: Int = 1) -> EngineLinkConfiguration {
        EngineLinkConfiguration(id: id, name: name, tier: tier, destination: hubAddress(id))
    }

    /// A hub with one branch per entry of `edgeConfigurations`; the hub's per-branch engines run
    /// `hubClasses` (the same table as the edges unless a test says otherwise).
    init(seed: UInt64, edgeConfigurations: [EngineConfiguration], delay: TimeSpan = .milliseconds(10)) {
        self.delay = delay
        var random = SeededRandomSource(seed: seed)
        let hubKey = PrivateKey.generate(using: &random)
        hub = HubEndpoint(privateKey: hubKey, random: random.derived(1))
        for (e, configuration) in edgeConfigurations.enumerated() {
            let edgeKey = PrivateKey.generate(using: &random)
            var hubSide = configuration
            hubSide.links = []
            hub.addBranch(
                HubBranchConfiguration(
                    name: "branch\(e)",
                    publicKey: edgeKey.publicKey,
                    allowedPrefixes: [Self.branchPrefix(e)],
                    engine: hubSide
                ),
                presharedKey: PresharedKey.none(),
                now: now,
                wallTime: wall
            )
            let session = EdgeSession(
                localStatic: edgeKey,
                hubPublicKey: hubKey.publicKey,
                presharedKey: PresharedKey.none()
            )
            edges.append(
                TunnelEngine(
                    configuration: configuration,
                    keys: .edge(session),
                    now: now,
                    wallTime: wall,
                    random: random.derived(100 + UInt64(e))
                )
            )
            deliveredAtEdge.append([])
            edgeSessionEvents.append([])
        }
        for e in edges.indices {
            edges[e].start(now: now, wallTime: wall)
            drainEdge(e)
        }
    }

    /// An IPv4/UDP inner packet numbered `id` (first 4 payload bytes), marked with `dscp`: from
    /// edge `e`'s LAN to the data centre, or (`down`) from the data centre to edge `e`'s LAN.
    static func packet(
        edge e: Int,
        id: UInt32,
        dscp: UInt8 = 0,
        down: Bool = false,
        source: UInt32? = nil
    )
        -> ByteBuffer
    {
        let lan = UInt32(0x0A00_0005) | UInt32(e + 1) << 16
        let dataCentre: UInt32 = 0x0AC8_0009
        var buffer = ByteBufferAllocator().buffer(capacity: 228)
        buffer.writeMultipleIntegers(UInt8(0x45), dscp << 2, UInt16(228), UInt16(0), UInt16(0x4000))
        buffer.writeMultipleIntegers(
            UInt8(64),
            UInt8(17),
            UInt16(0),
            source ?? (down ? dataCentre : lan),
            down ? lan : dataCentre
        )
        buffer.writeMultipleIntegers(UInt16(40_000), UInt16(5_004), UInt16(208), UInt16(0))
        buffer.writeInteger(id)
        buffer.writeRepeatingByte(0x5A, count: 196)
        return buffer
    }

    static func id(of packet: ByteBuffer) -> UInt32 { packet.getInteger(at: packet.readerIndex + 28) ?? .max }

    func sendUp(edge e: Int, id: UInt32, dscp: UInt8 = 0, source: UInt32? = nil) {
        edges[e].handleInnerPacket(Self.packet(edge: e, id: id, dscp: dscp, source: source), now: now)
        drainEdge(e)
    }

    func sendDown(edge e: Int, id: UInt32, dscp: UInt8 = 0) {
        hub.handleInnerPacket(Self.packet(edge: e, id: id, dscp: dscp, down: true), now: now)
        drainHub()
    }

    func drainEdge(_ e: Int) {
        while let t = edges[e].pollTransmit() {
            inFlight.append(
                InFlight(at: now + delay, order: order, toHub: true, edge: e, linkID: t.linkID, datagram: t.datagram)
            )
            order += 1
        }
        while let d = edges[e].pollDelivery() { deliveredAtEdge[e].append((d.classIndex, Self.id(of: d.packet))) }
        while let event = edges[e].pollEvent() {
            if case .session(let s) = event { edgeSessionEvents[e].append(s) }
        }
    }

    func drainHub() {
        while let t = hub.pollTransmit() {
            let port = Int(t.destination.port) - 5_000
            let (e, id) = (port / 256, UInt8(truncatingIfNeeded: port % 256))
            inFlight.append(
                InFlight(at: now + delay, order: order, toHub: false, edge: e, linkID: id, datagram: t.datagram)
            )
            order += 1
        }
        while let d = hub.pollDelivery() { deliveredAtHub.append((d.classIndex, Self.id(of: d.packet))) }
        while let (branch, event) = hub.pollEvent() {
            if case .session(let s) = event { hubSessionEvents.append((branch, s)) }
        }
    }

    /// Runs datagrams and timers until `end`, calling `tick` at every multiple of `every`.
    func run(until end: Instant, every: TimeSpan? = nil, tick: (Instant) -> Void = { _ in }) {
        var nextTick = every.map { now + $0 }
        while true {
            var next = end
            if let first = inFlight.min(by: { ($0.at, $0.order) < ($1.at, $1.order) }) { next = min(next, first.at) }
            for edge in edges { if let d = edge.nextDeadline() { next = min(next, d) } }
            if let d = hub.nextDeadline() { next = min(next, d) }
            if let t = nextTick { next = min(next, t) }
            now = max(now, next)
            if let t = nextTick, now >= t {
                tick(now)
                nextTick = t + every!
                continue
            }
            if let i = inFlight.indices.min(by: {
                (inFlight[$0].at, inFlight[$0].order) < (inFlight[$1].at, inFlight[$1].order)
            }), inFlight[i].at <= now {
                let item = inFlight.remove(at: i)
                guard !cut.contains(item.linkID) else { continue }
                if item.toHub {
                    hub.handleDatagram(
                        item.datagram,
                        listener: Int(item.linkID),
                        source: Self.edgeSource(item.edge, item.linkID),
                        now: now
                    )
                    drainHub()
                } else {
                    edges[item.edge].handleDatagram(
                        item.datagram,
                        linkID: item.linkID,
                        source: Self.hubAddress(item.linkID),
                        now: now
                    )
                    drainEdge(item.edge)
                }
                continue
            }
            var ran = false
            for e in edges.indices {
                if let d = edges[e].nextDeadline(), d <= now {
                    edges[e].handleTimeout(now: now, wallTime: wall)
                    drainEdge(e)
                    ran = true
                }
            }
            if let d = hub.nextDeadline(), d <= now {
                hub.handleTimeout(now: now, wallTime: wall)
                drainHub()
                ran = true
            }
            if !ran && now >= end { return }
        }
    }

    /// Handshakes and rekeys an edge has completed.
    func handshakes(edge e: Int) -> Int {
        edgeSessionEvents[e].filter {
            switch $0 {
            case .handshakeCompleted, .rekeyed: true
            case .keysExpired, .sessionRetired: false
            }
        }.count
    }
}
