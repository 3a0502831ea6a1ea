import NIOCore
import SDWANCore
import SDWANLinkModel

/// What travels through the simulated network's event queue.
public enum NetworkEvent {
    /// A datagram arriving at the hub from branch `branch`'s link `link`.
    case datagramToHub(branch: Int, link: Int, datagram: ByteBuffer)
    /// A datagram arriving at branch `branch` on its link `link`.
    case datagramToEdge(branch: Int, link: Int, datagram: ByteBuffer)
    /// Something the driver scheduled (traffic, a timeline action): handled by `run`'s callback.
    case action(Int)
}

/// One branch's link in the simulated network: two directions of a link model and the address
/// the hub sees it from.
public struct NetworkLink {
    public var id: UInt8
    public var up: SimulatedLink<ByteBuffer>
    public var down: SimulatedLink<ByteBuffer>
    /// The branch-side address of the link as the hub sees it (a rebind changes the port).
    public var address: UDPEndpoint
}

/// A hub endpoint and branch edges wired through modelled links in virtual time: the production
/// engines, driven exactly as the live nodes drive them (docs/simulator.md, "Event loop").
///
/// Endpoint numbering for timers: 0 is the hub, 1 + b is branch b's edge.
///
/// The hot stored properties skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`):
/// the network runs on one thread and never re-enters itself (as `TunnelEngine`).
public final class TunnelNetwork {
    @exclusivity(unchecked) public var simulation = Simulation<NetworkEvent>()
    @exclusivity(unchecked) public private(set) var hub: HubEndpoint
    @exclusivity(unchecked) public private(set) var edges: [TunnelEngine] = []
    @exclusivity(unchecked) public var links: [[NetworkLink]] = []
    /// The hub's address (one listener).
    public let hubAddress = UDPEndpoint(address: .v4(0xC000_0201), port: 51_820)
    /// Where the virtual wall clock starts (2027-01-15), for handshake timestamps.
    public var wallClockOrigin: Int64 = 1_800_000_000
    /// Datagrams the hub sent to an address no link has (after a rebind, like a NAT would drop).
    public private(set) var unroutable: UInt64 = 0
    /// Every datagram carried by a link (offered to a link model), probes and parity included.
    @exclusivity(unchecked) public private(set) var datagramsCarried: UInt64 = 0
    @exclusivity(unchecked) private var addressMap: [UDPEndpoint: (branch: Int, link: Int)] = [:]
    /// Timer firings at the current instant, to turn an engine whose deadline never advances into
    /// a clear failure instead of a hang.
    @exclusivity(unchecked) private var firingsAtInstant: (at: Instant, count: Int) = (.zero, 0)
    /// Drains under way per endpoint (0 the hub, 1 + b an edge). A delivery handler may send
    /// through the same endpoint (an acknowledgement), draining it again from inside its drain;
    /// only the outermost drain re-arms the timer, once everything it started has run. A table
    /// changed in place (an array checked its buffer's uniqueness twice per drain).
    private let drainDepth = ComponentTable<Int>([0])

    /// Called for every inner packet delivered: branch index (or `nil` for the hub side), the
    /// delivery and the instant.
    @exclusivity(unchecked) public var onDelivery: ((Int?, consuming Delivery, Instant) -> Void)?
    /// Called for every engine event: branch index (or `nil` for the hub), the event and the instant.
    @exclusivity(unchecked) public var onEvent: ((Int?, EngineEvent, Instant) -> Void)?

    public init(hub: HubEndpoint) {
        self.hub = hub
    }

    public func wallTime(_ now: Instant) -> WallTime {
        let ns = now.nanoseconds
        return WallTime(
            secondsSinceEpoch: wallClockOrigin + ns / 1_000_000_000,
            nanoseconds: UInt32(ns % 1_000_000_000)
        )
    }

    /// The address a branch link is seen from before any rebind.
    public static func linkAddress(branch: Int, link: Int) -> UDPEndpoint {
        UDPEndpoint(address: .v4(0x0A00_0002 | UInt32(branch) << 16 | UInt32(link) << 8), port: 40_000)
    }

    /// Adds a branch edge whose links are `models` (in the order of its configuration's links).
    /// Each direction draws from its own stream of `random`.
    @discardableResult
    public func addEdge(
        configuration: EngineConfiguration,
        session: EdgeSession,
        models: [(up: LinkDirectionParameters, down: LinkDirectionParameters)],
        random: SeededRandomSource
    ) -> Int {
        precondition(models.count == configuration.links.count, "one model pair per link")
        let b = edges.count
        var config = configuration
        for i in config.links.indices { config.links[i].destination = hubAddress }
        let engine = TunnelEngine(
            configuration: config,
            keys: .edge(session),
            now: simulation.now,
            wallTime: wallTime(simulation.now),
            random: random.derived(0xED6E)
        )
        edges.append(engine)
        drainDepth.append(0)
        var branchLinks: [NetworkLink] = []
        for (l, pair) in models.enumerated() {
            let salt = UInt64(b) << 16 | UInt64(l)
            let address = Self.linkAddress(branch: b, link: l)
            var up = SimulatedLink<ByteBuffer>(pair.up, random: random.derived(salt << 1), scheduleSalt: salt)
            var down = SimulatedLink<ByteBuffer>(pair.down, random: random.derived(salt << 1 | 1), scheduleSalt: salt)
            // Each direction's deliveries in a lane of their own (mostly in time order: FIFO links).
            up.lane = simulation.makeLane()
            down.lane = simulation.makeLane()
            branchLinks.append(NetworkLink(id: config.links[l].id, up: up, down: down, address: address))
            addressMap[address] = (b, l)
        }
        links.append(branchLinks)
        return b
    }

    /// Starts every edge's session at the current instant.
    public func start() {
        let now = simulation.now
        for b in edges.indices {
            edges[b].start(now: now, wallTime: wallTime(now))
            drainEdge(b, now: now)
        }
        drainHub(now: now)
    }

    /// A hub restart: `hub` (a new endpoint, typically with the same keys and branches) takes over
    /// at the current instant; the old one's sessions, timers and queued output are gone.
    public func replaceHub(_ hub: HubEndpoint) {
        precondition(drainDepth[0] == 0, "the hub is replaced while it is drained")
        self.hub = hub
        drainHub(now: simulation.now)
    }

    /// A NAT rebinding: branch `b`'s link `l` is seen from a new source port from now on.
    public func rebind(branch b: Int, link l: Int, port: UInt16) {
        var moved = links[b][l].address
        moved.port = port
        rebind(branch: b, link: l, to: moved)
    }

    /// Branch `b`'s link `l` is seen from `endpoint` from now on (a new public address, or the
    /// link moving between IPv4 and IPv6).
    public func rebind(branch b: Int, link l: Int, to endpoint: UDPEndpoint) {
        addressMap[links[b][l].address] = nil
        links[b][l].address = endpoint
        addressMap[endpoint] = (b, l)
    }

    /// An inner packet from branch `b`'s LAN at the current instant. Pass its last reference
    /// (`consume`) so the engine builds the datagram in the packet's own buffer without a copy.
    public func sendFromEdge(_ b: Int, _ packet: consuming ByteBuffer, classIndex: Int? = nil) {
        let now = simulation.now
        // The engine borrowed (see `drainEdge`); the packet moves in through an optional, since a
        // closure cannot consume what it captures.
        var moving: ByteBuffer? = consume packet
        Unmanaged.passUnretained(edges[b])._withUnsafeGuaranteedRef { engine in
            if let classIndex {
                engine.handleInnerPacket(moving.take()!, classIndex: classIndex, now: now)
            } else {
                engine.handleInnerPacket(moving.take()!, now: now)
            }
        }
        drainEdge(b, now: now)
    }

    /// An inner packet from the data centre at the current instant.
    public func sendFromHub(_ packet: consuming ByteBuffer) {
        let now = simulation.now
        var moving: ByteBuffer? = consume packet  // see `sendFromEdge`
        Unmanaged.passUnretained(hub)._withUnsafeGuaranteedRef { $0.handleInnerPacket(moving.take()!, now: now) }
        drainHub(now: now)
    }

    /// Runs the network until `end`; `onAction` handles `.action` events.
    public func run(until end: Instant, onAction: (Int, Instant) -> Void = { _, _ in }) {
        while let (now, step) = simulation.next(until: end) {
            // Consumed: the datagram moves out of the step instead of being retained beside it.
            switch consume step {
            // The endpoints borrowed for the call (see `drainEdge`), the datagram moved in through
            // an optional (see `sendFromEdge`).
            case .event(.datagramToHub(let b, let l, let datagram)):
                var moving: ByteBuffer? = consume datagram
                let source = links[b][l].address
                Unmanaged.passUnretained(hub)._withUnsafeGuaranteedRef {
                    $0.handleDatagram(moving.take()!, listener: 0, source: source, now: now)
                }
                drainHub(now: now)
            case .event(.datagramToEdge(let b, let l, let datagram)):
                var moving: ByteBuffer? = consume datagram
                let linkID = links[b][l].id
                Unmanaged.passUnretained(edges[b])._withUnsafeGuaranteedRef {
                    $0.handleDatagram(moving.take()!, linkID: linkID, source: hubAddress, now: now)
                }
                drainEdge(b, now: now)
            case .event(.action(let id)):
                onAction(id, now)
            case .timer(endpoint: 0):
                checkProgress(now)
                let wall = wallTime(now)
                Unmanaged.passUnretained(hub)._withUnsafeGuaranteedRef { $0.handleTimeout(now: now, wallTime: wall) }
                drainHub(now: now)
            case .timer(let endpoint):
                checkProgress(now)
                let b = endpoint - 1
                let wall = wallTime(now)
                Unmanaged.passUnretained(edges[b])._withUnsafeGuaranteedRef {
                    $0.handleTimeout(now: now, wallTime: wall)
                }
                drainEdge(b, now: now)
            }
        }
    }

    private func checkProgress(_ now: Instant) {
        if firingsAtInstant.at == now {
            firingsAtInstant.count += 1
            precondition(firingsAtInstant.count < 100_000, "an engine's deadline does not advance at \(now)")
        } else {
            firingsAtInstant = (now, 1)
        }
    }

    /// Sends an edge's transmits into its links' up direction and delivers its inner packets.
    public func drainEdge(_ b: Int, now: Instant) {
        // Borrowed, not retained, for the drain: edges are only ever appended and live as long as
        // the network (the retain and release around each drain were ~0.7 % of a simulation).
        Unmanaged.passUnretained(edges[b])._withUnsafeGuaranteedRef { drainEdge(b, engine: $0, now: now) }
    }

    private func drainEdge(_ b: Int, engine: TunnelEngine, now: Instant) {
        drainDepth[1 + b] += 1
        while let t = engine.pollTransmit() {
            guard let l = links[b].firstIndex(where: { $0.id == t.linkID }) else { continue }
            datagramsCarried &+= 1
            let size = t.datagram.readableBytes + (t.destination.address.isV4 ? 28 : 48)
            // `consume`: the datagram moves into the link (a copy was a retain and a release).
            links[b][l].up.send((consume t).datagram, size: size, at: now, into: &simulation) {
                .datagramToHub(branch: b, link: l, datagram: $0)
            }
        }
        while let delivery = engine.pollDelivery() { onDelivery?(b, consume delivery, now) }
        while let event = engine.pollEvent() { onEvent?(b, event, now) }
        drainDepth[1 + b] -= 1
        if drainDepth[1 + b] == 0 { simulation.setDeadline(engine.nextDeadline(), for: 1 + b) }
    }

    /// The branch link whose address is `destination`. The address names the link (`linkAddress`:
    /// 10.b.l.2), so the candidate it names is checked first; the table answers the rest (a
    /// network of more than 256 branches). Hashing the endpoint for every hub datagram cost ~1 % of
    /// a simulation.
    private func link(at destination: UDPEndpoint) -> (branch: Int, link: Int)? {
        if case .v4(let a) = destination.address, a >> 24 == 0x0A, a & 0xFF == 2 {
            let b = Int(a >> 16 & 0xFF)
            let l = Int(a >> 8 & 0xFF)
            if b < links.count, l < links[b].count, links[b][l].address == destination { return (b, l) }
        }
        return addressMap[destination]
    }

    /// Sends the hub's transmits into the matching link's down direction and delivers its packets.
    public func drainHub(now: Instant) {
        // Borrowed, not retained (see `drainEdge`): `replaceHub` refuses to run inside a drain.
        Unmanaged.passUnretained(hub)._withUnsafeGuaranteedRef { drainHub(hub: $0, now: now) }
    }

    private func drainHub(hub: HubEndpoint, now: Instant) {
        drainDepth[0] += 1
        while let t = hub.pollTransmit() {
            guard let (b, l) = link(at: t.destination) else {
                unroutable &+= 1
                continue
            }
            datagramsCarried &+= 1
            let size = t.datagram.readableBytes + (t.destination.address.isV4 ? 28 : 48)
            links[b][l].down.send((consume t).datagram, size: size, at: now, into: &simulation) {
                .datagramToEdge(branch: b, link: l, datagram: $0)
            }
        }
        while let delivery = hub.pollDelivery() { onDelivery?(nil, consume delivery, now) }
        while let (_, event) = hub.pollEvent() { onEvent?(nil, event, now) }
        drainDepth[0] -= 1
        if drainDepth[0] == 0 { simulation.setDeadline(hub.nextDeadline(), for: 0) }
    }
}
