import NIOCore
import SDWANConfig
import SDWANCore
import SDWANLinkModel

/// The traffic sources (docs/simulator.md, "Traffic"): every packet is an event at its send
/// instant, handed to the edge (up) or the hub (down) exactly as a LAN or the data centre would.
extension ScenarioRun {
    func buildFlows() {
        let end: Instant = Instant.zero + (duration - min(scenario.drain, duration / 2))
        for spec in scenario.traffic {
            let branches = scenario.topology.branches.indices.filter {
                spec.branch == nil || scenario.topology.branches[$0].name == spec.branch
            }
            let directions: [FlowDirection] = spec.direction == .both ? [.up, .down] : [spec.direction]
            let start: Instant = Instant.zero + spec.start
            let stop: Instant = min(end, spec.stop.map { Instant.zero + $0 } ?? end)
            for b in branches {
                switch spec.kind {
                case .voice(let calls, let size):
                    for _ in 0..<calls {
                        for d in directions {
                            addFlow(
                                spec,
                                branch: b,
                                direction: d,
                                size: size,
                                start: start,
                                stop: stop,
                                source: .constantRate(interval: .milliseconds(20))
                            )
                        }
                    }
                case .video(let rate, let size):
                    let interval = TimeSpan(nanoseconds: Int64(size) * 8 * 1_000_000_000 / rate)
                    for d in directions {
                        addFlow(
                            spec,
                            branch: b,
                            direction: d,
                            size: size,
                            start: start,
                            stop: stop,
                            source: .constantRate(interval: interval)
                        )
                    }
                case .transactions(let every, let request, let response, let size):
                    let up = addFlow(
                        spec,
                        branch: b,
                        direction: .up,
                        size: size,
                        start: start,
                        stop: stop,
                        source: .constantRate(interval: every)
                    )
                    let down = addFlow(
                        spec,
                        branch: b,
                        direction: .down,
                        size: size,
                        start: start,
                        stop: stop,
                        source: .transactionResponses(packets: response)
                    )
                    up.source = .transactionRequests(meanInterval: every, packets: request, responses: down.id)
                case .bulk(let count, let rate, let requested, let window):
                    // TCP fits its segments to the path (MSS clamping, PMTUD): no larger than the
                    // tunnel's inner MTU.
                    let size = min(requested, network.edges[b].innerMTU)
                    let pace = TimeSpan(nanoseconds: max(1, Int64(size) * 8 * 1_000_000_000 / rate))
                    for _ in 0..<count {
                        for d in directions {
                            addFlow(
                                spec,
                                branch: b,
                                direction: d,
                                size: size,
                                start: start,
                                stop: stop,
                                source: .bulk,
                                bulkWindow: AIMDWindow(maxWindow: window, paceInterval: pace)
                            )
                        }
                    }
                }
            }
        }
        for flow in flows {
            switch flow.source {
            case .transactionResponses: continue
            case .constantRate(let interval):
                // A random phase, so calls and streams do not all send at the same instant.
                let phase = TimeSpan(
                    nanoseconds: Int64.random(in: 0..<max(1, interval.nanoseconds), using: &flow.random)
                )
                scheduleTick(flow, at: flow.start + phase)
            case .transactionRequests(let mean, _, _):
                scheduleTick(flow, at: flow.start + exponential(mean, &flow.random))
            case .bulk:
                scheduleTick(flow, at: flow.start)
            }
        }
    }

    @discardableResult
    func addFlow(
        _ spec: TrafficFlowSpec,
        branch b: Int,
        direction: FlowDirection,
        size: Int,
        start: Instant,
        stop: Instant,
        source: FlowRecord.Source,
        bulkWindow: AIMDWindow? = nil
    ) -> FlowRecord {
        let flow = FlowRecord(
            id: flows.count,
            kind: spec.kindName,
            branch: b,
            direction: direction,
            size: max(size, InnerPackets.minimumSize(ipProtocol: spec.ipProtocol)),
            spec: spec,
            start: start,
            stop: stop,
            source: source,
            bulkWindow: bulkWindow,
            random: random.derived(10_000 + UInt64(flows.count))
        )
        var probe = classifier
        flow.classIndex = probe.classify(packet(flow, sequence: 0, at: .zero)).classIndex
        if let e = entries.firstIndex(where: {
            $0.branch == b && $0.classIndex == flow.classIndex && $0.direction == direction
        }) {
            flow.entry = e
        } else {
            flow.entry = entries.count
            entries.append(ClassStatistics(branch: b, classIndex: flow.classIndex, direction: direction))
        }
        entries[flow.entry].flows.append(flow)
        flows.append(flow)
        return flow
    }

    func exponential(_ mean: TimeSpan, _ random: inout SeededRandomSource) -> TimeSpan {
        // Inverse transform: −mean·ln U, U in (0, 1].
        let u = 1 - random.nextUnitDouble()
        return TimeSpan(nanoseconds: Int64(Double(mean.nanoseconds) * -LinkMath.log(u)))
    }

    func scheduleTick(_ flow: FlowRecord, at: Instant) {
        guard at < flow.stop else { return }
        if let pending = flow.nextTick, pending <= at, pending >= network.simulation.now { return }
        flow.nextTick = at
        network.simulation.schedule(.action(flow.id << 2 | ActionTag.flow.rawValue), at: at)
    }

    func tick(_ flow: FlowRecord, now: Instant) {
        guard flow.nextTick == now else { return }  // superseded
        flow.nextTick = nil
        switch flow.source {
        case .constantRate(let interval):
            send(flow, sequence: flow.nextSequence(), now: now)
            scheduleTick(flow, at: now + interval)
        case .transactionRequests(let mean, let packets, _):
            for i in 0..<packets {
                send(flow, sequence: flow.nextSequence(), now: now, aux: i == packets - 1 ? 1 : 0)
            }
            scheduleTick(flow, at: now + exponential(mean, &flow.random))
        case .transactionResponses:
            break
        case .bulk:
            let step = flow.withBulkWindow { window -> (sequence: UInt32?, wake: Instant?) in
                window.sweep(now: now)
                if Double(window.inFlight) < window.window {
                    let sequence = flow.nextSequence()
                    window.sent(sequence, at: now)
                    return (sequence, now + window.paceInterval)
                }
                // Window full: wake for the oldest packet's timeout (acknowledgements wake it sooner).
                return (nil, window.nextTimeout.map { max($0, now + window.paceInterval) })
            }
            if let sequence = step?.sequence { send(flow, sequence: sequence, now: now) }
            if let wake = step?.wake { scheduleTick(flow, at: wake) }
        }
    }

    func respond(_ flow: FlowRecord, now: Instant) {
        guard case .transactionResponses(let packets) = flow.source, now < flow.stop else { return }
        for _ in 0..<packets { send(flow, sequence: flow.nextSequence(), now: now) }
    }

    func acknowledged(_ flow: FlowRecord, sequence: UInt32, sentAt: Instant, now: Instant) {
        let wake = flow.withBulkWindow { window -> Instant? in
            window.acknowledge(sequence, sentAt: sentAt, now: now)
            return Double(window.inFlight) < window.window ? max(now, window.lastSend + window.paceInterval) : nil
        }
        if let wake = wake ?? nil { scheduleTick(flow, at: wake) }
    }

    /// An acknowledgement travels back through the tunnel as a 64-byte packet of the same class.
    func sendAcknowledgement(for flow: FlowRecord, sequence: UInt32, sentAt: Instant) {
        let ack = InnerPackets.make(
            size: 64,
            dscp: flow.dscp,
            ipProtocol: flow.ipProtocol,
            source: flow.direction == .up ? InnerPackets.dataCentreHost : InnerPackets.branchHost(flow.branch),
            destination: flow.direction == .up ? InnerPackets.branchHost(flow.branch) : InnerPackets.dataCentreHost,
            port: flow.port,
            flow: UInt32(flow.id) | InnerPackets.ackBit,
            sequence: sequence,
            sentAt: sentAt,
            pool: &pool
        )
        if flow.direction == .up {
            network.sendFromHub(consume ack)
        } else {
            network.sendFromEdge(flow.branch, consume ack)
        }
    }

    func packet(_ flow: FlowRecord, sequence: UInt32, at now: Instant, aux: UInt32 = 0) -> ByteBuffer {
        InnerPackets.make(
            size: flow.size,
            dscp: flow.dscp,
            ipProtocol: flow.ipProtocol,
            source: flow.direction == .up ? InnerPackets.branchHost(flow.branch) : InnerPackets.dataCentreHost,
            destination: flow.direction == .up ? InnerPackets.dataCentreHost : InnerPackets.branchHost(flow.branch),
            port: flow.port,
            flow: UInt32(flow.id),
            sequence: sequence,
            sentAt: now,
            aux: aux,
            pool: &pool
        )
    }

    func send(_ flow: FlowRecord, sequence: UInt32, now: Instant, aux: UInt32 = 0) {
        let p = packet(flow, sequence: sequence, at: now, aux: aux)
        if flow.direction == .up {
            network.sendFromEdge(flow.branch, consume p)
        } else {
            network.sendFromHub(consume p)
        }
    }
}
