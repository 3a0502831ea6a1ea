import Logging
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO

/// `sdwan edge`: one `TunnelEngine` per hub (EdgeNode+Hubs.swift) driven over one UDP socket per
/// WAN link, on one event loop; every hub's tunnel shares the link sockets.
///
/// Every input follows the engine's contract (TunnelEngine's doc comment): read the clock once
/// per batch, feed the engine, drain `pollTransmit` (written per link socket, flushed once per
/// DSCP group), `pollDelivery` (to forward clients), `pollEvent` (logged), then arm the one timer
/// at `nextDeadline()`. All state is confined to `eventLoop`; public methods hop onto it.
public final class EdgeNode: @unchecked Sendable {
    public let eventLoop: EventLoop
    /// The configuration running now (a reload replaces it: `apply(_:)`).
    public internal(set) var configuration: EdgeConfig
    /// One tunnel per hub, in the configuration's order of preference.
    var tunnels: [HubTunnel]
    /// Which tunnel carries new inner packets (`engine` is that tunnel's engine).
    var hubSelector: HubSelector
    let logger: Logger
    let startedAt: Instant
    let allocator = ByteBufferAllocator()
    /// Link sockets in configuration order (`nil` while an interface is gone).
    var linkSockets: [UDPLinkSocket?]
    var linkSlot = [Int](repeating: -1, count: 256)
    var forwardSockets: [UDPLinkSocket?]
    /// The TUN device facing the LAN (`ingress.tun`; EdgeNode+TUN.swift).
    var tun: TUNDevice?
    var flows: EdgeFlowTable
    var outgoing: [[OutgoingDatagram]]
    var timer = EngineTimer()
    var housekeeping: RepeatedTask?
    var counters = NodeCounters()
    var dropLog = RateLimitedLog()
    var stopped = false
    /// Link sockets NIO closed on a send error, by link id, and rebuilds by link name (SocketRebuild.swift).
    var lostLinks: [UInt8: SocketRebuild] = [:]
    /// A reload is between releasing or opening link sockets and putting its tables in
    /// (EdgeNode+Reload.swift): the once-a-second socket checks wait, so they neither report nor
    /// reopen a socket the reload released on purpose.
    var reloadOpening = false
    var linkSocketRebuilds: [String: UInt64] = [:]
    /// Forward listen sockets lost and awaiting a rebuild, by forward index, and rebuilds done.
    var lostForwards: [Int: SocketRebuild] = [:]
    var forwardSocketRebuilds: [String: UInt64] = [:]

    init(configuration: EdgeConfig, sessions: [EdgeSession], eventLoop: EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        let now = Clocks.monotonic()
        startedAt = now
        tunnels = sessions.indices.map { h in
            HubTunnel(configuration: configuration, hub: h, session: sessions[h], now: now)
        }
        hubSelector = HubSelector(hubs: sessions.count, configuration: configuration.hubSelection)
        linkSockets = Array(repeating: nil, count: configuration.links.count)
        forwardSockets = Array(repeating: nil, count: configuration.forwards.count)
        outgoing = Array(repeating: [], count: configuration.links.count)
        flows = EdgeFlowTable(forwards: configuration.forwards.count)
        for (i, link) in configuration.links.enumerated() { linkSlot[Int(link.id)] = i }
    }

    /// Reads the keys, opens every socket and starts the session. Fails (closing what it opened)
    /// when a key or a socket cannot be had.
    public static func start(
        configuration: EdgeConfig,
        eventLoop: EventLoop,
        logger: Logger = Logger(label: "sdwan.edge")
    ) -> EventLoopFuture<EdgeNode> {
        let sessions: [EdgeSession]
        do {
            sessions = try configuration.hubs.indices.map { try Self.session(configuration, hub: $0) }
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let node = EdgeNode(configuration: configuration, sessions: sessions, eventLoop: eventLoop, logger: logger)
        return eventLoop.flatSubmit { node.openAll() }.flatMapError { error in
            node.stop().flatMapThrowing { throw error }
        }
    }

    private func openAll() -> EventLoopFuture<EdgeNode> {
        var futures: [EventLoopFuture<Void>] = []
        for (i, link) in configuration.links.enumerated() {
            futures.append(openLink(link).map { [self] socket in linkSockets[i] = socket })
        }
        for (f, forward) in configuration.forwards.enumerated() {
            futures.append(
                openForward(f, at: forward.listen).map { [self] socket in
                    forwardSockets[f] = socket
                    logger.info(
                        "forward listening",
                        metadata: [
                            "forward": .string(forward.name), "listen": .string("\(socket.localEndpoint)"),
                            "target": .string("\(forward.target)"), "class": .string(forward.className),
                        ]
                    )
                }
            )
        }
        return EventLoopFuture.andAllSucceed(futures, on: eventLoop).flatMapThrowing { [self] in
            try openTUN()
            let now = Clocks.monotonic()
            for tunnel in tunnels { tunnel.engine.start(now: now, wallTime: Clocks.wall()) }
            drain(now: now)
            housekeeping = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
                housekeep()
            }
            return self
        }
    }

    /// Opens a link's socket; its datagrams go to the engine under the link's id (whatever slot
    /// the link has after a reload).
    func openLink(_ link: NodeLinkConfig) -> EventLoopFuture<UDPLinkSocket> {
        let socketConfiguration = UDPSocketConfiguration(local: link.local, interface: link.interface)
        let id = link.id
        return UDPLinkSocket.open(socketConfiguration, on: eventLoop) { [self] batch in linkBatch(id, batch) }
            .map { [self] socket in
                logger.notice(
                    "link socket open",
                    metadata: [
                        "link": .string(link.name), "local": .string("\(socket.localEndpoint)"),
                        "egress": .string(link.interface ?? "routing table"), "hub": .string("\(link.hubEndpoint)"),
                    ]
                )
                return socket
            }
    }

    /// Closes every socket and the timers. Idempotent.
    public func stop() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            stopped = true
            timer.cancel()
            housekeeping?.cancel()
            tun?.close()
            tun = nil
            let sockets = (linkSockets + forwardSockets).compactMap { $0 }
            linkSockets = linkSockets.map { _ in nil }
            forwardSockets = forwardSockets.map { _ in nil }
            return EventLoopFuture.andAllComplete(sockets.map { $0.close() }, on: eventLoop)
        }
    }

    /// The bound local endpoint of link `index` and of forward `index` (tests, status).
    public func linkEndpoint(_ index: Int) -> EventLoopFuture<UDPEndpoint?> {
        eventLoop.submit { [self] in linkSockets[index]?.localEndpoint }
    }
    /// The NIO channel of link `index`'s socket, `nil` while it has none (tests close it
    /// underneath the node as a fatal send error would: SocketRebuild.swift).
    public func linkChannel(_ index: Int) -> EventLoopFuture<Channel?> {
        eventLoop.submit { [self] in linkSockets[index]?.channel }
    }
    /// The NIO channel of forward `index`'s listen socket, `nil` while it has none (tests close
    /// it underneath the node: SocketRebuild.swift).
    public func forwardChannel(_ index: Int) -> EventLoopFuture<Channel?> {
        eventLoop.submit { [self] in forwardSockets[index]?.channel }
    }
    public func forwardEndpoint(_ index: Int) -> EventLoopFuture<UDPEndpoint?> {
        eventLoop.submit { [self] in forwardSockets[index]?.localEndpoint }
    }

    // MARK: Inputs

    private func linkBatch(_ id: UInt8, _ batch: [ReceivedDatagram]) {
        // A link a reload removed may still have a batch in flight: its engine link is gone.
        guard !stopped, linkSlot[Int(id)] >= 0 else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        counters.datagramsReceived &+= UInt64(batch.count)
        for datagram in batch {
            // Hubs are told apart by the datagram's source: each has its own endpoint on a link.
            guard let tunnel = tunnel(from: datagram.source, link: id) else {
                counters.count(.unknownHubSource)
                continue
            }
            tunnel.engine.handleDatagram(datagram.data, linkID: id, source: datagram.source, now: now)
        }
        drain(now: now)
    }

    func clientBatch(_ f: Int, _ batch: [ReceivedDatagram]) {
        guard !stopped, let source = configuration.innerAddress else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        let forward = configuration.forwards[f]
        for datagram in batch {
            counters.forwardIn &+= 1
            guard let port = flows.port(forward: f, client: datagram.source, now: now, limit: forward.maxFlows) else {
                counters.count(.forwardFlowsFull)
                dropLog.log(
                    logger,
                    .warning,
                    key: "flows-full-\(forward.name)",
                    now: now,
                    "forward \(forward.name): flow table full (\(forward.maxFlows)); refused \(datagram.source)"
                )
                continue
            }
            let packet = ForwardPacket.wrap(
                datagram.data,
                source: UDPEndpoint(address: source, port: port),
                destination: forward.target,
                allocator: allocator
            )
            guard packet.readableBytes <= engine.innerMTU else {
                counters.count(.forwardOversize)
                continue
            }
            engine.handleInnerPacket(packet, classIndex: forward.classIndex, now: now)
        }
        drain(now: now)
    }

    func timerFired() {
        timer.fired()
        guard !stopped else { return }
        let now = Clocks.monotonic()
        let wall = Clocks.wall()
        for tunnel in tunnels { tunnel.engine.handleTimeout(now: now, wallTime: wall) }
        drain(now: now)
    }

    // MARK: Drain (TunnelEngine's documented order)

    func drain(now: Instant) {
        for tunnel in tunnels { drainTransmits(tunnel.engine) }
        for i in outgoing.indices where !outgoing[i].isEmpty {
            write(i, now: now)
            outgoing[i].removeAll(keepingCapacity: true)
        }
        for tunnel in tunnels {
            while let delivery = tunnel.engine.pollDelivery() { deliver(delivery, now: now) }
            while let event = tunnel.engine.pollEvent() {
                EngineEventLog.log(event, branch: tunnel.name, peerKey: "hub", linkName: linkName, logger: logger)
            }
        }
        selectHub(now: now)
        timer.arm(nextDeadline(), now: now, on: eventLoop) { [self] in timerFired() }
    }

    private func drainTransmits(_ engine: TunnelEngine) {
        while let t = engine.pollTransmit() {
            let slot = linkSlot[Int(t.linkID)]
            guard slot >= 0 else {
                counters.count(.linkSocketMissing)
                continue
            }
            outgoing[slot].append(OutgoingDatagram(data: t.datagram, destination: t.destination, dscp: t.dscp))
        }
    }

    private func write(_ i: Int, now: Instant) {
        guard let socket = linkSockets[i] else {
            for _ in outgoing[i] { counters.count(.linkSocketMissing) }
            return
        }
        // Bounded queue: when the socket cannot take more, drop early and count.
        guard socket.channel.isWritable else {
            for _ in outgoing[i] { counters.count(.socketBackpressure) }
            dropLog.log(
                logger,
                .warning,
                key: "backpressure-\(i)",
                now: now,
                "link \(linkName(UInt8(i))): socket full, dropping"
            )
            return
        }
        counters.datagramsSent &+= UInt64(outgoing[i].count)
        socket.send(outgoing[i])
    }

    private func deliver(_ delivery: Delivery, now: Instant) {
        if deliverToTUN(delivery) { return }
        guard let (source, destination, payload) = ForwardPacket.unwrap(delivery.packet),
            destination.address == configuration.innerAddress
        else {
            counters.count(.noLocalSink)
            return
        }
        guard let flow = flows.flow(port: destination.port, now: now),
            configuration.forwards[flow.forward].target == source,
            let socket = forwardSockets[flow.forward]
        else {
            counters.count(.forwardUnknownFlow)
            return
        }
        counters.forwardOut &+= 1
        socket.send(CollectionOfOne(OutgoingDatagram(data: payload, destination: flow.client)))
    }

    func linkName(_ id: UInt8) -> String {
        let slot = linkSlot[Int(id)]
        return slot >= 0 ? configuration.links[slot].name : "link\(id)"
    }

    // MARK: Housekeeping (once a second)

    /// Opens forward `f`'s listen socket at `endpoint`.
    func openForward(_ f: Int, at endpoint: UDPEndpoint) -> EventLoopFuture<UDPLinkSocket> {
        UDPLinkSocket.open(UDPSocketConfiguration(local: endpoint, dontFragment: false), on: eventLoop) {
            [self] batch in clientBatch(f, batch)
        }
    }

    private func housekeep() {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        _ = flows.expire(now: now) { configuration.forwards[$0].idleTimeout }
        for f in forwardSockets.indices { checkForwardSocket(f, now: now) }
        for (i, link) in configuration.links.enumerated() {
            for tunnel in tunnels {
                if let quality = tunnel.engine.linkQuality(link.id) { tunnel.histograms.observe(i, quality) }
            }
            // A vanished interface is handled below (its return rebuilds the socket at once);
            // otherwise a socket NIO closed on a send error is rebuilt with backoff (SocketRebuild.swift).
            guard !reloadOpening else { continue }
            let present = link.interface.map(InterfaceWatch.isPresent) ?? true
            if !present { lostLinks[link.id] = nil }
            guard !(present && checkLinkSocket(i, now: now)), link.interface != nil else { continue }
            if !present, linkSockets[i] != nil {
                logger.warning("interface vanished: link down", metadata: ["link": .string(link.name)])
                for tunnel in tunnels { tunnel.engine.handleLinkStatus(link.id, up: false, now: now) }
                let socket = linkSockets[i]
                linkSockets[i] = nil
                _ = socket?.close()
            } else if present, linkSockets[i] == nil {
                openLink(link).whenComplete { [self] result in
                    guard case .success(let socket) = result else { return }
                    // The link may have moved or gone (a reload) while the socket opened.
                    let slot = linkSlot[Int(link.id)]
                    guard !stopped, slot >= 0, linkSockets[slot] == nil else {
                        _ = socket.close()
                        return
                    }
                    linkSockets[slot] = socket
                    logger.notice("interface back: socket rebuilt", metadata: ["link": .string(link.name)])
                    let now = Clocks.monotonic()
                    for tunnel in tunnels { tunnel.engine.handleLinkStatus(link.id, up: true, now: now) }
                    drain(now: now)
                }
            }
        }
        drain(now: now)
    }

    // MARK: Status

    /// A snapshot for /status (on the event loop).
    func statusNow() -> NodeStatus {
        let now = Clocks.monotonic()
        var drops: [String: UInt64] = [:]
        for reason in NodeDropReason.allCases { drops[reason.label] = counters[reason] }
        let hubTunnels = tunnels.enumerated().map { h, tunnel in
            var status = TunnelStatus.of(tunnel.engine, peer: tunnel.name) { [self] id in
                let slot = linkSlot[Int(id)]
                guard slot >= 0 else { return (nil, nil) }
                return (linkSockets[slot].map { "\($0.localEndpoint)" }, configuration.links[slot].interface)
            }
            status.active = hubSelector.active == h
            return status
        }
        var status = NodeStatus(
            role: "edge",
            name: configuration.name,
            uptimeSeconds: (now - startedAt).seconds,
            tunnels: hubTunnels,
            nodeDrops: drops,
            forwardFlows: flows.count,
            datagramsReceived: counters.datagramsReceived,
            datagramsSent: counters.datagramsSent
        )
        status.activeHub = hubSelector.active.map { tunnels[$0].name }
        status.hubSwitches = hubSelector.switches
        return status
    }

    /// The status snapshot, from any thread.
    public func status() -> EventLoopFuture<NodeStatus> { eventLoop.submit { [self] in statusNow() } }

    /// Prometheus text for /metrics (on the event loop).
    func metricsNow() -> String {
        var text = MetricsText()
        text.node(statusNow(), counters: counters)
        text.socketRebuilds(
            "sdwan_link_socket_rebuilds_total",
            label: "link",
            configuration.links.map { ($0.name, linkSocketRebuilds[$0.name] ?? 0) }
        )
        text.socketRebuilds(
            "sdwan_forward_socket_rebuilds_total",
            label: "forward",
            configuration.forwards.map { ($0.name, forwardSocketRebuilds[$0.name] ?? 0) }
        )
        for tunnel in tunnels {
            text.histograms(tunnel.histograms, names: configuration.links.map(\.name), peer: tunnel.name)
        }
        return text.output
    }
}
