import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANLinkModel

/// A userspace WAN emulator: a UDP relay per link of one branch that applies the topology's link
/// models (`LinkDirectionModel`, the simulator's very code) to real traffic in real time.
///
/// ```
///  edge link i ──▶ edge-facing socket i ──[up model]──▶ hub-facing socket i ──▶ hub
///  edge link i ◀── edge-facing socket i ◀─[down model]── hub-facing socket i ◀── hub
/// ```
///
/// Pipeline per read batch (all on one event loop, no locks): read the monotonic clock once →
/// offer each datagram to its direction's model at that instant → a delivered datagram is copied
/// out of the receive buffer into the delivery heap at the model's instant (twice if duplicated)
/// → everything already due is written at once → one timer is armed for the earliest pending
/// delivery. When it fires: read the clock, write every due datagram (batched per socket), re-arm.
/// Replies from the hub go to the edge link's last source address.
///
/// Overrides (control socket, timeline) call the model's `cut()`, `setLoss(_:)`, …: they act on
/// the next packet offered; packets already scheduled are in flight and still arrive.
public final class WANEmulator: @unchecked Sendable {
    /// The loop every socket, timer and model lives on.
    public let eventLoop: EventLoop
    /// The run's start: schedules and the timeline count from here.
    public let origin: Instant
    public let topology: Topology
    public let branch: TopologyBranch
    public let configuration: WANEmulatorConfiguration

    private var links: [EmulatedLink]
    private var heap = DeliveryHeap()
    private var timer: Scheduled<Void>?
    private var timerDue: Instant?
    private var lateness = LatenessHistogram()
    private var control: UDPLinkSocket?
    private var timelineTasks: [Scheduled<Void>] = []
    private var stopped = false
    private var upScratch: [[OutgoingDatagram]]
    private var downScratch: [[OutgoingDatagram]]
    private let allocator = ByteBufferAllocator()

    private init(
        topology: Topology,
        branch: TopologyBranch,
        configuration: WANEmulatorConfiguration,
        eventLoop: EventLoop,
        origin: Instant
    ) {
        self.topology = topology
        self.branch = branch
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.origin = origin
        links = branch.links.enumerated().map {
            EmulatedLink(index: $0, topology: $1, origin: origin, seed: configuration.seed)
        }
        upScratch = Array(repeating: [], count: branch.links.count)
        downScratch = Array(repeating: [], count: branch.links.count)
    }

    // MARK: Lifecycle

    /// Opens every socket and starts relaying; the timeline's steps for this branch are scheduled
    /// from `origin` (the instant of this call). Fails, with every socket opened so far closed, if
    /// a socket cannot be bound, the branch is unknown, or the control address is not loopback.
    public static func start(
        topology: Topology,
        timeline: Timeline = .empty,
        configuration: WANEmulatorConfiguration,
        on eventLoop: EventLoop
    ) async throws -> WANEmulator {
        let branch = try selectBranch(topology, configuration.branch)
        try timeline.validate(against: topology)
        if let control = configuration.control, !WANEmulatorConfiguration.isLoopback(control.address) {
            throw WANEmulatorError("control address \(control) is not loopback; use 127.0.0.1:PORT or [::1]:PORT")
        }
        if configuration.listen.port != 0 && Int(configuration.listen.port) + branch.links.count - 1 > 65_535 {
            throw WANEmulatorError(
                "listen port \(configuration.listen.port) + \(branch.links.count) links passes 65535"
            )
        }
        let emulator = WANEmulator(
            topology: topology,
            branch: branch,
            configuration: configuration,
            eventLoop: eventLoop,
            origin: Clocks.monotonic()
        )
        do {
            try await emulator.openSockets()
        } catch {
            _ = try? await emulator.stop()
            throw error
        }
        try await eventLoop.submit { emulator.scheduleTimeline(timeline) }.get()
        return emulator
    }

    /// Stops relaying: cancels the timer and the timeline, closes every socket and returns the
    /// final ground truth (`inFlight` counts deliveries that were still pending and are dropped).
    public func stop() async throws -> WANEmulatorStats {
        let sockets: [UDPLinkSocket] = try await eventLoop.submit {
            self.stopped = true
            self.timer?.cancel()
            self.timer = nil
            for task in self.timelineTasks { task.cancel() }
            self.timelineTasks = []
            var sockets = self.links.flatMap { [$0.edgeSocket, $0.hubSocket].compactMap { $0 } }
            if let control = self.control { sockets.append(control) }
            return sockets
        }.get()
        for socket in sockets { try? await socket.close().get() }
        return try await eventLoop.submit {
            let stats = self.currentStats(at: Clocks.monotonic())
            self.heap.removeAll()
            return stats
        }.get()
    }

    /// The ground truth now.
    public func stats() async throws -> WANEmulatorStats {
        try await eventLoop.submit { self.currentStats(at: Clocks.monotonic()) }.get()
    }

    /// The edge-facing address of link `index` (topology order): where the edge's link sends.
    public func edgeFacingEndpoint(link index: Int) async throws -> UDPEndpoint? {
        try await eventLoop.submit { self.links[index].edgeSocket?.localEndpoint }.get()
    }

    /// The current hub-facing address of link `index`: the source the hub sees.
    public func hubFacingEndpoint(link index: Int) async throws -> UDPEndpoint? {
        try await eventLoop.submit { self.links[index].hubSocket?.localEndpoint }.get()
    }

    /// The control socket's bound address, if there is one.
    public var controlEndpoint: UDPEndpoint? {
        get async throws { try await eventLoop.submit { self.control?.localEndpoint }.get() }
    }

    private static func selectBranch(_ topology: Topology, _ name: String?) throws -> TopologyBranch {
        let names = topology.branches.map(\.name).joined(separator: ", ")
        if let name {
            guard let branch = topology.branch(named: name) else {
                throw WANEmulatorError("no branch `\(name)` in topology `\(topology.name)`; branches: \(names)")
            }
            return branch
        }
        guard topology.branches.count == 1 else {
            throw WANEmulatorError("topology `\(topology.name)` has several branches; choose one of: \(names)")
        }
        return topology.branches[0]
    }

    private func socketConfiguration(_ local: UDPEndpoint) -> UDPSocketConfiguration {
        UDPSocketConfiguration(
            local: local,
            batchSize: configuration.batchSize,
            maxDatagramSize: configuration.maxDatagramSize
        )
    }

    private var hubFacingLocal: UDPEndpoint {
        UDPEndpoint(address: configuration.hubFacing ?? configuration.listen.address, port: 0)
    }

    private func openSockets() async throws {
        for index in links.indices {
            let port = configuration.listen.port == 0 ? 0 : configuration.listen.port + UInt16(index)
            let local = UDPEndpoint(address: configuration.listen.address, port: port)
            let edge = try await UDPLinkSocket.open(socketConfiguration(local), on: eventLoop) { [self] batch in
                self.edgeBatch(link: index, batch)
            }.get()
            try await eventLoop.submit { self.links[index].edgeSocket = edge }.get()
            let hubSocket = try await openHubFacing(link: index)
            try await eventLoop.submit { self.links[index].hubSocket = hubSocket }.get()
        }
        if let address = configuration.control {
            var settings = UDPSocketConfiguration(local: address, batchSize: 4, maxDatagramSize: 2_048)
            settings.dontFragment = false
            let control = try await UDPLinkSocket.open(settings, on: eventLoop) { [self] batch in
                self.controlBatch(batch)
            }.get()
            try await eventLoop.submit { self.control = control }.get()
        }
    }

    private func openHubFacing(link index: Int) async throws -> UDPLinkSocket {
        try await UDPLinkSocket.open(socketConfiguration(hubFacingLocal), on: eventLoop) { [self] batch in
            self.hubBatch(link: index, batch)
        }.get()
    }

    // MARK: Relay (on the event loop)

    private func edgeBatch(link index: Int, _ batch: [ReceivedDatagram]) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        for datagram in batch {
            links[index].edgeSource = datagram.source
            links[index].upRelay.received += 1
            offer(datagram.data, link: index, direction: .up, at: now)
        }
        deliverDue(at: now)
    }

    private func hubBatch(link index: Int, _ batch: [ReceivedDatagram]) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        for datagram in batch {
            guard datagram.source == configuration.hub else {
                links[index].downRelay.foreignSource += 1
                continue
            }
            guard links[index].edgeSource != nil else {
                links[index].downRelay.noEdgeAddress += 1
                continue
            }
            links[index].downRelay.received += 1
            offer(datagram.data, link: index, direction: .down, at: now)
        }
        deliverDue(at: now)
    }

    private func offer(_ data: ByteBuffer, link index: Int, direction: RelayDirection, at now: Instant) {
        let verdict = links[index].offer(direction, size: data.readableBytes, at: now)
        guard case .dropped = verdict else {
            // Copy out of the receive buffer: a held slice would pin the whole batch's buffer
            // for the packet's delay.
            var copy = allocator.buffer(capacity: data.readableBytes)
            copy.writeImmutableBuffer(data)
            let (first, second) = verdict.deliveries
            if let first { heap.push(due: first, link: index, direction: direction, data: copy) }
            if let second { heap.push(due: second, link: index, direction: direction, data: copy) }
            return
        }
    }

    /// Writes every delivery due at `now`, one send (one flush) per socket, then arms the timer.
    private func deliverDue(at now: Instant) {
        var touched = false
        while let delivery = heap.popDue(at: now) {
            lateness.record(now - delivery.due)
            let link = delivery.link
            switch delivery.direction {
            case .up:
                upScratch[link].append(OutgoingDatagram(data: delivery.data, destination: configuration.hub))
            case .down:
                guard let edge = links[link].edgeSource else { continue }
                downScratch[link].append(OutgoingDatagram(data: delivery.data, destination: edge))
            }
            touched = true
        }
        if touched {
            for index in links.indices {
                if !upScratch[index].isEmpty, let socket = links[index].hubSocket {
                    socket.send(upScratch[index])
                    links[index].upRelay.sent += UInt64(upScratch[index].count)
                }
                if !downScratch[index].isEmpty, let socket = links[index].edgeSocket {
                    socket.send(downScratch[index])
                    links[index].downRelay.sent += UInt64(downScratch[index].count)
                }
                upScratch[index].removeAll(keepingCapacity: true)
                downScratch[index].removeAll(keepingCapacity: true)
            }
        }
        armTimer(now: now)
    }

    /// One timer for the earliest pending delivery; re-armed only when that instant moves earlier
    /// (FIFO delay appends at the back, so most batches leave the timer alone).
    private func armTimer(now: Instant) {
        guard !stopped, let earliest = heap.earliest else { return }
        if let armed = timerDue, armed <= earliest, timer != nil { return }
        timer?.cancel()
        timerDue = earliest
        let wait = TimeAmount.nanoseconds(max(0, (earliest - now).nanoseconds))
        timer = eventLoop.scheduleTask(in: wait) { [self] in
            self.timer = nil
            self.timerDue = nil
            guard !self.stopped else { return }
            self.deliverDue(at: Clocks.monotonic())
        }
    }

    // MARK: Overrides

    /// Runs one control command and returns the reply line(s): `ok …`, `error: …`, the stats JSON
    /// or the link list.
    public func execute(_ line: String) async throws -> String {
        let command: ControlCommand
        do {
            command = try ControlCommand.parse(line)
        } catch {
            return "error: \(error.message)"
        }
        if case .link(let name, _, .rebind) = command {
            guard let index = branch.links.firstIndex(where: { $0.name == name }) else {
                return "error: \(unknownLink(name))"
            }
            return try await rebind(link: index)
        }
        let echo = line.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return try await eventLoop.submit { self.executeOnLoop(command, echo: echo) }.get()
    }

    private func unknownLink(_ name: String) -> String {
        "unknown link `\(name)`; links of branch \(branch.name): \(branch.links.map(\.name).joined(separator: ", "))"
    }

    private func executeOnLoop(_ command: ControlCommand, echo: String) -> String {
        let now = Clocks.monotonic()
        switch command {
        case .stats:
            return currentStats(at: now).jsonText
        case .links:
            return links.map { link in
                let edge = link.edgeSocket.map { "\($0.localEndpoint)" } ?? "-"
                let hub = link.hubSocket.map { "\($0.localEndpoint)" } ?? "-"
                return "\(link.topology.name) edge-facing \(edge) hub-facing \(hub)"
            }.joined(separator: "\n")
        case .link(let name, let direction, let action):
            guard let index = branch.links.firstIndex(where: { $0.name == name }) else {
                return "error: \(unknownLink(name))"
            }
            links[index].withModels(direction) { model, original in
                switch action {
                case .cut: model.cut()
                case .restore: model.restore()
                case .loss(let loss): model.setLoss(loss)
                case .delay(let base, let jitter): model.setDelay(base: base, jitter: jitter)
                case .rate(let rate): model.setRate(rate, at: now)
                case .mtu(let mtu): model.setMTU(mtu)
                case .duplicate(let p): model.setDuplication(p)
                case .reset: model.reset(to: original, at: now)
                case .rebind: break
                }
            }
            return "ok: \(echo)"
        }
    }

    /// Replaces link `index`'s hub-facing socket by a new one on a new port, as a NAT rebinding
    /// would; the old socket is closed (replies still addressed to it are lost, as behind a NAT).
    public func rebind(link index: Int) async throws -> String {
        let fresh = try await openHubFacing(link: index)
        let old: UDPLinkSocket? = try await eventLoop.submit {
            if self.stopped { return fresh }
            let old = self.links[index].hubSocket
            self.links[index].hubSocket = fresh
            self.links[index].rebinds += 1
            return old
        }.get()
        try? await old?.close().get()
        let name = branch.links[index].name
        return "ok: \(name) rebound \(old.map { "\($0.localEndpoint)" } ?? "-") -> \(fresh.localEndpoint)"
    }

    private func controlBatch(_ batch: [ReceivedDatagram]) {
        for datagram in batch {
            let line = String(buffer: datagram.data)
            let source = datagram.source
            let reply: EventLoopFuture<String> = eventLoop.makeFutureWithTask { try await self.execute(line) }
            reply.whenComplete { result in
                guard let control = self.control else { return }
                let text: String
                switch result {
                case .success(let t): text = t
                case .failure(let error): text = "error: \(error)"
                }
                control.send([OutgoingDatagram(data: ByteBuffer(string: text), destination: source)])
            }
        }
    }

    private func scheduleTimeline(_ timeline: Timeline) {
        let now = Clocks.monotonic()
        for step in timeline.steps where step.branch == nil || step.branch == branch.name {
            guard let index = branch.links.firstIndex(where: { $0.name == step.link }) else { continue }
            let wait = TimeAmount.nanoseconds(max(0, (origin + step.at - now).nanoseconds))
            let task = eventLoop.scheduleTask(in: wait) { [self] in
                self.applyStep(step, link: index)
            }
            timelineTasks.append(task)
        }
    }

    private func applyStep(_ step: TimelineStep, link index: Int) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        switch step.action {
        case .rebind:
            eventLoop.makeFutureWithTask { try await self.rebind(link: index) }.whenComplete { _ in }
        case .cut:
            links[index].withModels(step.direction) { model, _ in model.cut() }
        case .restore:
            links[index].withModels(step.direction) { model, _ in model.restore() }
        case .degrade(let degrade):
            links[index].withModels(step.direction) { model, _ in model.apply(degrade, at: now) }
        case .endDegrade(let degrade):
            links[index].withModels(step.direction) { model, original in
                model.revert(degrade, to: original, at: now)
            }
        }
    }

    // MARK: Stats

    private func currentStats(at now: Instant) -> WANEmulatorStats {
        let linkStats = links.map { link in
            func direction(_ d: RelayDirection) -> DirectionStats {
                var relay = link.relay(d)
                relay.inFlight = heap.count(link: link.index, direction: d)
                let model = d == .up ? link.up : link.down
                return DirectionStats(cut: model.isCut, model: model.counters, relay: relay)
            }
            return LinkStats(
                name: link.topology.name,
                edgeFacing: link.edgeSocket.map { "\($0.localEndpoint)" } ?? "-",
                hubFacing: link.hubSocket.map { "\($0.localEndpoint)" } ?? "-",
                edgeSource: link.edgeSource.map { "\($0)" },
                rebinds: link.rebinds,
                up: direction(.up),
                down: direction(.down)
            )
        }
        return WANEmulatorStats(
            topology: topology.name,
            branch: branch.name,
            hub: "\(configuration.hub)",
            uptimeSeconds: (now - origin).seconds,
            links: linkStats,
            timing: TimingStats(lateness)
        )
    }
}

/// Why the emulator cannot start or run a request.
public struct WANEmulatorError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
