import Logging
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO

/// `sdwan hub`: a `HubEndpoint` driven over one UDP socket per listen address, on one event loop.
///
/// NIO cannot choose a reply's source address, so each listen address has its own socket and a
/// reply leaves from the socket (the address) the branch's link used: the endpoint's
/// `HubTransmit.listener`. Deliveries (the data-centre side) go to the UDP forward relay when they
/// are forward datagrams to an allowed target, else to the TUN device (`ingress.tun`), else they
/// are counted (`no_local_sink`) and dropped.
public final class HubNode: @unchecked Sendable {
    public let eventLoop: EventLoop
    /// The configuration running now (a reload replaces it: `apply(_:)`).
    public internal(set) var configuration: HubConfig
    let hub: HubEndpoint
    let logger: Logger
    let startedAt: Instant
    let allocator = ByteBufferAllocator()
    /// Listener sockets by slot, the `HubTransmit.listener` index. Slots are stable: a reload
    /// appends new addresses and leaves a removed one's slot empty (`listenAddresses[slot] == nil`).
    var listeners: [UDPLinkSocket?]
    var listenAddresses: [UDPEndpoint?]
    var outgoing: [[OutgoingDatagram]]
    var flowTable: HubFlowTable
    /// The TUN device facing the data centre (`ingress.tun`; HubNode+TUN.swift).
    var tun: TUNDevice?
    var tooBig = TooBigLimiter()
    var timer = EngineTimer()
    var housekeeping: RepeatedTask?
    var counters = NodeCounters()
    var dropLog = RateLimitedLog()
    /// RTT and jitter histograms per branch and link, sampled once a second (like the edge's).
    var histograms: [BranchLinkKey: LinkHistograms] = [:]
    var stopped = false
    /// Listeners NIO closed on a send error, and rebuilds, by slot (SocketRebuild.swift).
    var lostListeners: [Int: SocketRebuild] = [:]
    /// Forward flows whose socket NIO closed underneath, replaced by a fresh one.
    var flowSocketsReplaced: UInt64 = 0
    var listenSocketRebuilds: [Int: UInt64] = [:]

    struct BranchLinkKey: Hashable {
        var branch: String
        var linkID: UInt8
    }

    init(configuration: HubConfig, hub: HubEndpoint, eventLoop: EventLoop, logger: Logger) {
        self.configuration = configuration
        self.hub = hub
        self.eventLoop = eventLoop
        self.logger = logger
        startedAt = Clocks.monotonic()
        listeners = Array(repeating: nil, count: configuration.listen.count)
        listenAddresses = configuration.listen
        outgoing = Array(repeating: [], count: configuration.listen.count)
        flowTable = HubFlowTable(maxFlows: configuration.udpTargets.maxFlows)
    }

    /// Reads the keys, adds the branches, opens one socket per listen address.
    public static func start(
        configuration: HubConfig,
        eventLoop: EventLoop,
        logger: Logger = Logger(label: "sdwan.hub")
    ) -> EventLoopFuture<HubNode> {
        let hub: HubEndpoint
        do {
            let key = try configuration.privateKey.privateKey(
                configFile: configuration.file,
                field: "identity.private_key_file"
            )
            hub = HubEndpoint(
                privateKey: key,
                forwardingRules: configuration.forwarding,
                random: SystemRandomSource()
            )
            let now = Clocks.monotonic()
            let wall = Clocks.wall()
            for (i, branch) in configuration.branches.enumerated() {
                let psk =
                    try branch.presharedKey?.presharedKey(
                        configFile: configuration.file,
                        field: "branches[\(i)].psk_file"
                    )
                    ?? PresharedKey.none()
                hub.addBranch(
                    HubBranchConfiguration(
                        name: branch.name,
                        publicKey: branch.publicKey,
                        allowedPrefixes: branch.allowedPrefixes,
                        engine: configuration.engineConfiguration
                    ),
                    presharedKey: psk,
                    now: now,
                    wallTime: wall
                )
            }
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let node = HubNode(configuration: configuration, hub: hub, eventLoop: eventLoop, logger: logger)
        return eventLoop.flatSubmit { node.openAll() }.flatMapError { error in
            node.stop().flatMapThrowing { throw error }
        }
    }

    private func openAll() -> EventLoopFuture<HubNode> {
        let futures = configuration.listen.enumerated().map { (i, address) in
            openListener(i, address).map { [self] socket in listeners[i] = socket }
        }
        return EventLoopFuture.andAllSucceed(futures, on: eventLoop).flatMapThrowing { [self] in
            try openTUN()
            housekeeping = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
                housekeep()
            }
            drain(now: Clocks.monotonic())
            return self
        }
    }

    /// Opens the socket of listener slot `i`.
    func openListener(_ i: Int, _ address: UDPEndpoint) -> EventLoopFuture<UDPLinkSocket> {
        UDPLinkSocket.open(UDPSocketConfiguration(local: address), on: eventLoop) { [self] batch in
            listenerBatch(i, batch)
        }.map { [self] socket in
            logger.notice("listening", metadata: ["address": .string("\(socket.localEndpoint)")])
            return socket
        }
    }

    /// Closes every socket (listeners and flows) and the timers. Idempotent.
    public func stop() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            stopped = true
            timer.cancel()
            housekeeping?.cancel()
            tun?.close()
            tun = nil
            var sockets = listeners.compactMap { $0 }
            sockets += flowTable.flows.values.compactMap(\.socket)
            listeners = listeners.map { _ in nil }
            flowTable.flows.removeAll()
            return EventLoopFuture.andAllComplete(sockets.map { $0.close() }, on: eventLoop)
        }
    }

    /// The bound address of listener `index`.
    public func listenerEndpoint(_ index: Int) -> EventLoopFuture<UDPEndpoint?> {
        eventLoop.submit { [self] in index < listeners.count ? listeners[index]?.localEndpoint : nil }
    }

    /// The NIO channel of listener `index` (tests close it underneath the node: SocketRebuild.swift).
    public func listenerChannel(_ index: Int) -> EventLoopFuture<Channel?> {
        eventLoop.submit { [self] in index < listeners.count ? listeners[index]?.channel : nil }
    }

    /// The NIO channels of the forward flows' sockets toward their targets (tests close them
    /// underneath the node as a fatal send error would).
    public func flowChannels() -> EventLoopFuture<[Channel]> {
        eventLoop.submit { [self] in flowTable.flows.values.compactMap { $0.socket?.channel } }
    }

    /// Drop counters of the endpoint (cryptokey routing, unknown indices).
    public func endpointDrops() -> EventLoopFuture<[HubDropReason: UInt64]> {
        eventLoop.submit { [self] in
            var out: [HubDropReason: UInt64] = [:]
            for reason in HubDropReason.allCases { out[reason] = hub.drops[reason.rawValue] }
            return out
        }
    }

    // MARK: Inputs

    private func listenerBatch(_ i: Int, _ batch: [ReceivedDatagram]) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        counters.datagramsReceived &+= UInt64(batch.count)
        for datagram in batch { hub.handleDatagram(datagram.data, listener: i, source: datagram.source, now: now) }
        drain(now: now)
    }

    private func timerFired() {
        timer.fired()
        guard !stopped else { return }
        let now = Clocks.monotonic()
        hub.handleTimeout(now: now, wallTime: Clocks.wall())
        drain(now: now)
    }

    /// Replies from a forward target, back into the tunnel in the flow's class.
    private func targetBatch(_ key: HubFlowTable.Key, _ batch: [ReceivedDatagram]) {
        guard !stopped, let flow = flowTable.flows[key] else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        flowTable.flows[key]!.lastSeen = now
        for datagram in batch {
            counters.forwardIn &+= 1
            guard datagram.source == key.target else {
                counters.count(.forwardStrangerReply)
                continue
            }
            let packet = ForwardPacket.wrap(
                datagram.data,
                source: key.target,
                destination: key.client,
                allocator: allocator
            )
            hub.handleInnerPacket(packet, classIndex: flow.classIndex, now: now)
        }
        drain(now: now)
    }

    // MARK: Drain (HubEndpoint's documented order)

    func drain(now: Instant) {
        while let t = hub.pollTransmit() {
            outgoing[t.listener].append(OutgoingDatagram(data: t.datagram, destination: t.destination, dscp: t.dscp))
        }
        for i in outgoing.indices where !outgoing[i].isEmpty {
            guard let socket = listeners[i] else {
                // The listener a branch's link used was removed by a reload: the branch's next
                // packet on another listener moves the link there.
                for _ in outgoing[i] { counters.count(.linkSocketMissing) }
                outgoing[i].removeAll(keepingCapacity: true)
                continue
            }
            if socket.channel.isWritable {
                counters.datagramsSent &+= UInt64(outgoing[i].count)
                socket.send(outgoing[i])
            } else {
                for _ in outgoing[i] { counters.count(.socketBackpressure) }
                dropLog.log(
                    logger,
                    .warning,
                    key: "backpressure-\(i)",
                    now: now,
                    "listener \(i): socket full, dropping"
                )
            }
            outgoing[i].removeAll(keepingCapacity: true)
        }
        while let delivery = hub.pollDelivery() { deliver(delivery, now: now) }
        while let (branch, event) = hub.pollEvent() {
            let engine = hub.engine(forBranch: branch)
            EngineEventLog.log(
                event,
                branch: branch,
                linkName: { engine?.linkConfiguration($0)?.name ?? "link\($0)" },
                logger: logger
            )
        }
        timer.arm(hub.nextDeadline(), now: now, on: eventLoop) { [self] in timerFired() }
    }

    private func deliver(_ delivery: Delivery, now: Instant) {
        if deliverToTUN(delivery) { return }
        guard let (client, target, payload) = ForwardPacket.unwrap(delivery.packet) else {
            counters.count(.noLocalSink)
            return
        }
        guard configuration.udpTargets.allowed.contains(target) else {
            counters.count(.forwardTargetNotAllowed)
            dropLog.log(
                logger,
                .warning,
                key: "target-\(target)",
                now: now,
                "forward to \(target) refused: not in udp_targets.allowed"
            )
            return
        }
        let key = HubFlowTable.Key(client: client, target: target)
        // A flow whose socket NIO closed underneath (a send to the target failed fatally: route
        // or address lost) is replaced: the packet opens a fresh socket below.
        if let socket = flowTable.flows[key]?.socket, !socket.channel.isActive {
            flowTable.flows[key] = nil
            flowSocketsReplaced &+= 1
        }
        if flowTable.flows[key] != nil {
            flowTable.flows[key]!.lastSeen = now
            if let socket = flowTable.flows[key]!.socket {
                counters.forwardOut &+= 1
                socket.send(CollectionOfOne(OutgoingDatagram(data: payload, destination: target)))
            } else if flowTable.flows[key]!.pending.count < HubFlowTable.pendingLimit {
                flowTable.flows[key]!.pending.append(payload)
            } else {
                counters.count(.forwardPendingFull)
            }
            return
        }
        guard flowTable.count < flowTable.maxFlows else {
            counters.count(.forwardFlowsFull)
            dropLog.log(
                logger,
                .warning,
                key: "flows-full",
                now: now,
                "forward flow table full (\(flowTable.maxFlows)); refused \(client) → \(target)"
            )
            return
        }
        flowTable.flows[key] = HubFlowTable.Flow(pending: [payload], classIndex: delivery.classIndex, lastSeen: now)
        let wildcard = UDPEndpoint(address: target.address.isV4 ? .v4(0) : .v6(high: 0, low: 0), port: 0)
        UDPLinkSocket.open(UDPSocketConfiguration(local: wildcard, batchSize: 8, dontFragment: false), on: eventLoop) {
            [self] batch in targetBatch(key, batch)
        }.whenComplete { [self] result in
            switch result {
            case .success(let socket):
                guard !stopped, flowTable.flows[key] != nil else {
                    _ = socket.close()
                    return
                }
                flowTable.flows[key]!.socket = socket
                let pending = flowTable.flows[key]!.pending
                flowTable.flows[key]!.pending = []
                counters.forwardOut &+= UInt64(pending.count)
                socket.send(pending.map { OutgoingDatagram(data: $0, destination: target) })
            case .failure(let error):
                flowTable.flows[key] = nil
                logger.error(
                    "forward socket failed",
                    metadata: ["target": .string("\(target)"), "error": .string("\(error)")]
                )
            }
        }
    }

    // MARK: Housekeeping

    private func housekeep() {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        checkListenerSockets(now: now)
        for key in flowTable.idle(now: now, timeout: configuration.udpTargets.idleTimeout) {
            _ = flowTable.flows.removeValue(forKey: key)?.socket?.close()
        }
        // A flow socket closed underneath takes its table slot until the flow idles out unless
        // removed here; its next packet opens a fresh one.
        for (key, flow) in flowTable.flows where flow.socket.map({ !$0.channel.isActive }) ?? false {
            flowTable.flows[key] = nil
            flowSocketsReplaced &+= 1
        }
        var live = Set<BranchLinkKey>()
        for name in hub.branchNames {
            guard let engine = hub.engine(forBranch: name) else { continue }
            for id in engine.linkIDs {
                let key = BranchLinkKey(branch: name, linkID: id)
                live.insert(key)
                guard let quality = engine.linkQuality(id) else { continue }
                histograms[key, default: LinkHistograms(links: 1)].observe(0, quality)
            }
        }
        // Branches and links a reload or an announcement removed.
        histograms = histograms.filter { live.contains($0.key) }
    }

    // MARK: Status

    func statusNow() -> NodeStatus {
        let now = Clocks.monotonic()
        var drops: [String: UInt64] = [:]
        for reason in NodeDropReason.allCases { drops[reason.label] = counters[reason] }
        for reason in HubDropReason.allCases { drops["hub_\(reason)"] = hub.drops[reason.rawValue] }
        var tunnels: [TunnelStatus] = []
        for name in hub.branchNames {
            guard let engine = hub.engine(forBranch: name) else { continue }
            tunnels.append(TunnelStatus.of(engine, peer: name) { _ in (nil, nil) })
        }
        return NodeStatus(
            role: "hub",
            name: configuration.name,
            uptimeSeconds: (now - startedAt).seconds,
            tunnels: tunnels,
            nodeDrops: drops,
            forwardFlows: flowTable.count,
            datagramsReceived: counters.datagramsReceived,
            datagramsSent: counters.datagramsSent
        )
    }

    public func status() -> EventLoopFuture<NodeStatus> { eventLoop.submit { [self] in statusNow() } }

    func metricsNow() -> String {
        var text = MetricsText()
        text.node(statusNow(), counters: counters)
        text.socketRebuilds(
            "sdwan_listen_socket_rebuilds_total",
            label: "listen",
            listenAddresses.indices.compactMap { i in
                listenAddresses[i].map { ("\($0)", listenSocketRebuilds[i] ?? 0) }
            }
        )
        text.counter(
            "sdwan_forward_flow_sockets_replaced_total",
            "Forward flows whose socket was closed by a send error and replaced",
            [],
            flowSocketsReplaced
        )
        // Branch and link order as /status shows them (never the dictionary's).
        for name in hub.branchNames {
            guard let engine = hub.engine(forBranch: name) else { continue }
            for id in engine.linkIDs {
                guard let h = histograms[BranchLinkKey(branch: name, linkID: id)] else { continue }
                text.histograms(h, names: [engine.linkConfiguration(id)?.name ?? "link\(id)"], peer: name)
            }
        }
        return text.output
    }
}
