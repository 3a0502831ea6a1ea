import NIOCore
import SDWANConfig
import SDWANCore
import SDWANLinkModel

/// The timeline applied to the simulated links (the same steps the WAN emulator applies in real
/// time), and hub restarts.
extension ScenarioRun {
    func apply(_ step: TimelineStep, now: Instant) {
        guard let (b, l) = resolve(step) else { return }
        let original = scenario.topology.branches[b].links[l]
        let up = step.direction != .down
        let down = step.direction != .up
        switch step.action {
        case .cut:
            if up { network.links[b][l].up.cut() }
            if down { network.links[b][l].down.cut() }
            links[b][l].setCut(
                up: up ? true : nil,
                down: down ? true : nil,
                at: now,
                carryingTraffic: linkCarriesTraffic(branch: b, link: l)
            )
        case .restore:
            if up { network.links[b][l].up.restore() }
            if down { network.links[b][l].down.restore() }
            links[b][l].setCut(up: up ? false : nil, down: down ? false : nil, at: now, carryingTraffic: false)
        case .degrade(let degrade):
            if up { Self.apply(degrade, to: &network.links[b][l].up, base: original.up, now: now) }
            if down { Self.apply(degrade, to: &network.links[b][l].down, base: original.down, now: now) }
        case .endDegrade(let degrade):
            if up { Self.revert(degrade, on: &network.links[b][l].up, to: original.up, now: now) }
            if down { Self.revert(degrade, on: &network.links[b][l].down, to: original.down, now: now) }
        case .rebind:
            rebinds += 1
            network.rebind(branch: b, link: l, port: UInt16(41_000 + rebinds))
        }
    }

    func resolve(_ step: TimelineStep) -> (Int, Int)? {
        for (b, branch) in scenario.topology.branches.enumerated()
        where step.branch == nil || step.branch == branch.name {
            if let l = branch.links.firstIndex(where: { $0.name == step.link }) { return (b, l) }
        }
        return nil
    }

    static func apply(
        _ degrade: LinkDegrade,
        to link: inout SimulatedLink<NIOCoreByteBuffer>,
        base: LinkDirectionParameters,
        now: Instant
    ) {
        if let loss = degrade.loss { link.setLoss(loss) }
        if degrade.baseDelay != nil || degrade.jitter != nil {
            link.setDelay(base: degrade.baseDelay ?? base.baseDelay, jitter: degrade.jitter)
        }
        if let rate = degrade.rate { link.setRate(rate, at: now) }
        if let mtu = degrade.mtu { link.setMTU(mtu) }
        if let duplication = degrade.duplication { link.setDuplication(duplication) }
    }

    static func revert(
        _ degrade: LinkDegrade,
        on link: inout SimulatedLink<NIOCoreByteBuffer>,
        to original: LinkDirectionParameters,
        now: Instant
    ) {
        if degrade.loss != nil { link.setLoss(original.loss) }
        if degrade.baseDelay != nil || degrade.jitter != nil {
            link.setDelay(base: original.baseDelay, jitter: original.jitter)
        }
        if degrade.rate != nil { link.setRate(original.rate, at: now) }
        if degrade.mtu != nil { link.setMTU(original.mtu) }
        if degrade.duplication != nil { link.setDuplication(original.duplication) }
    }

    /// A new hub endpoint with the same keys and branches: every session and measurement of the
    /// old one is gone (its class counters are kept for the summary).
    func restartHub(now: Instant) {
        for (b, branch) in scenario.topology.branches.enumerated() {
            guard let engine = network.hub.engine(forBranch: branch.name) else { continue }
            for c in scenario.classes.classes.indices {
                retiredHubCounters[b][c].add(engine.counters(forClass: c))
            }
        }
        restarts += 1
        let hub = Self.makeHub(
            scenario,
            random: random,
            generation: UInt64(restarts),
            now: now,
            wallTime: network.wallTime(now)
        )
        network.replaceHub(hub)
    }
}

typealias NIOCoreByteBuffer = NIOCore.ByteBuffer

extension ClassCounters {
    mutating func add(_ other: ClassCounters) {
        sent &+= other.sent
        wirePackets &+= other.wirePackets
        wireBytes &+= other.wireBytes
        payloadBytes &+= other.payloadBytes
        delivered &+= other.delivered
        duplicatesDropped &+= other.duplicatesDropped
        recoveredByFEC &+= other.recoveredByFEC
        rebuiltBeforeOriginal &+= other.rebuiltBeforeOriginal
        held &+= other.held
        holdDropped &+= other.holdDropped
        sentOffSLA &+= other.sentOffSLA
        parityUnplaced &+= other.parityUnplaced
    }
}
