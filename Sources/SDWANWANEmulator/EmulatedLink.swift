import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANLinkModel

/// One emulated link: its two sockets, the edge's last source address and a model per direction.
/// Owned by the emulator and touched only on its event loop.
struct EmulatedLink {
    let index: Int
    let topology: TopologyLink
    var up: LinkDirectionModel
    var down: LinkDirectionModel
    var upRandom: SeededRandomSource
    var downRandom: SeededRandomSource
    var upRelay = RelayCounters()
    var downRelay = RelayCounters()
    /// Where the edge's link socket sends to.
    var edgeSocket: UDPLinkSocket?
    /// Where packets leave for the hub; replaced by a rebind.
    var hubSocket: UDPLinkSocket?
    /// The edge's last source address: replies go there.
    var edgeSource: UDPEndpoint?
    var rebinds = 0

    init(index: Int, topology: TopologyLink, origin: Instant, seed: UInt64) {
        self.index = index
        self.topology = topology
        let root = SeededRandomSource(seed: seed)
        // One salt for both directions, so a scheduled brownout hits both at once.
        var saltSource = root.derived(0x5CED_0000 &+ UInt64(index))
        let salt = saltSource.next()
        up = LinkDirectionModel(topology.up, origin: origin, scheduleSalt: salt)
        down = LinkDirectionModel(topology.down, origin: origin, scheduleSalt: salt)
        upRandom = root.derived(UInt64(2 * index))
        downRandom = root.derived(UInt64(2 * index + 1))
    }

    /// Offers a packet to one direction's model.
    mutating func offer(_ direction: RelayDirection, size: Int, at now: Instant) -> LinkVerdict {
        switch direction {
        case .up: up.offer(size: size, at: now, using: &upRandom)
        case .down: down.offer(size: size, at: now, using: &downRandom)
        }
    }

    /// Runs `body` on the model(s) `selection` names.
    mutating func withModels(
        _ selection: TimelineDirection,
        _ body: (inout LinkDirectionModel, LinkDirectionParameters) -> Void
    ) {
        if selection != .down { body(&up, topology.up) }
        if selection != .up { body(&down, topology.down) }
    }

    func relay(_ direction: RelayDirection) -> RelayCounters {
        direction == .up ? upRelay : downRelay
    }
}

extension LinkDirectionModel {
    /// Applies the fields a degrade sets.
    mutating func apply(_ degrade: LinkDegrade, at now: Instant) {
        if let loss = degrade.loss { setLoss(loss) }
        if degrade.baseDelay != nil || degrade.jitter != nil {
            setDelay(base: degrade.baseDelay ?? parameters.baseDelay, jitter: degrade.jitter)
        }
        if let rate = degrade.rate { setRate(rate, at: now) }
        if let mtu = degrade.mtu { setMTU(mtu) }
        if let duplication = degrade.duplication { setDuplication(duplication) }
    }

    /// Puts back `original`'s values of the fields a degrade set.
    mutating func revert(_ degrade: LinkDegrade, to original: LinkDirectionParameters, at now: Instant) {
        if degrade.loss != nil { setLoss(original.loss) }
        if degrade.baseDelay != nil || degrade.jitter != nil {
            setDelay(base: original.baseDelay, jitter: original.jitter)
        }
        if degrade.rate != nil { setRate(original.rate, at: now) }
        if degrade.mtu != nil { setMTU(original.mtu) }
        if degrade.duplication != nil { setDuplication(original.duplication) }
    }

    /// Back to `original` in every field an override can change, cut ended.
    mutating func reset(to original: LinkDirectionParameters, at now: Instant) {
        restore()
        setLoss(original.loss)
        setDelay(base: original.baseDelay, jitter: original.jitter)
        setRate(original.rate, at: now)
        setMTU(original.mtu)
        setDuplication(original.duplication)
    }
}
