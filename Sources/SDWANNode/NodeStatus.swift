import SDWANCore

/// What `/status` returns and `sdwan status` prints (docs/operations.md, "Status"). Times in
/// seconds, ratios as fractions, counters since start.
public struct NodeStatus: Codable, Sendable {
    public var role: String
    public var name: String
    public var uptimeSeconds: Double
    /// Tunnels: the edge has one (to its hub), the hub one per branch.
    public var tunnels: [TunnelStatus]
    /// Drops of the I/O ring by reason (`NodeDropReason.label`).
    public var nodeDrops: [String: UInt64]
    public var forwardFlows: Int
    public var datagramsReceived: UInt64
    public var datagramsSent: UInt64
    /// The edge: the hub carrying its traffic now (`nil` before any hub is usable, and on a hub).
    public var activeHub: String? = nil
    /// The edge: changes of the active hub since start.
    public var hubSwitches: UInt64? = nil
}

/// One tunnel: the edge's to its hub, or the hub's to one branch.
public struct TunnelStatus: Codable, Sendable {
    /// The peer (hub name on the edge, branch name on the hub).
    public var peer: String
    public var established: Bool
    public var innerMTU: Int
    /// Handshakes completed and rekeys at this end since start (a reload moves neither).
    public var handshakes: UInt64
    public var rekeys: UInt64
    public var links: [LinkStatusSnapshot]
    public var classes: [ClassStatusSnapshot]
    /// Engine drops by reason (`EngineDropReason`), only the non-zero ones.
    public var drops: [String: UInt64]
    /// The edge: whether this hub's tunnel carries the traffic now (`nil` on a hub).
    public var active: Bool? = nil
}

public struct LinkStatusSnapshot: Codable, Sendable {
    public var id: Int
    public var name: String
    public var state: String
    public var rttSeconds: Double?
    /// Our sending direction (tx) and the peer's (rx): loss over the SLA window and RFC 3550 jitter.
    public var lossTx: Double?
    public var lossRx: Double?
    public var jitterTxSeconds: Double
    public var jitterRxSeconds: Double
    public var packetsSent: UInt64
    public var bytesSent: UInt64
    public var packetsReceived: UInt64
    public var bytesReceived: UInt64
    /// Where the link's datagrams go (the hub's address, or the branch's as last seen).
    public var destination: String?
    /// Edge only: the socket's local address and interface.
    public var local: String?
    public var interface: String?
}

public struct ClassStatusSnapshot: Codable, Sendable {
    public var name: String
    /// Link ids the class uses now, best first.
    public var links: [Int]
    public var sent: UInt64
    public var delivered: UInt64
    /// Losses repaired by FEC: rebuilt members whose original never arrived. It can step back by
    /// one when a late original shows up (the rebuild then counts as `rebuiltEarly`).
    public var recovered: UInt64
    /// Members rebuilt from parity before their late original arrived (parity on a faster link).
    public var rebuiltEarly: UInt64
    public var duplicates: UInt64
    public var held: UInt64
    public var holdDropped: UInt64
    /// Packets of a striped class that arrived after the reorder stage had skipped their gap.
    public var late: UInt64
    public var wirePackets: UInt64
    public var wireBytes: UInt64
}

extension TunnelStatus {
    /// A snapshot of `engine` (on the node's event loop).
    static func of(_ engine: TunnelEngine, peer: String, local: (UInt8) -> (String?, String?)) -> TunnelStatus {
        var links: [LinkStatusSnapshot] = []
        for id in engine.linkIDs {
            let config = engine.linkConfiguration(id)
            let quality = engine.linkQuality(id)
            let traffic = engine.linkTraffic(id)
            let (address, interface) = local(id)
            links.append(
                LinkStatusSnapshot(
                    id: Int(id),
                    name: config?.name ?? "link\(id)",
                    state: engine.linkStatus(id).map { "\($0)" } ?? "unknown",
                    rttSeconds: quality?.smoothedRTT?.seconds,
                    lossTx: quality?.forward.lossRatio,
                    lossRx: quality?.reverse.lossRatio,
                    jitterTxSeconds: quality?.forward.jitter.seconds ?? 0,
                    jitterRxSeconds: quality?.reverse.jitter.seconds ?? 0,
                    packetsSent: traffic?.packetsSent ?? 0,
                    bytesSent: traffic?.bytesSent ?? 0,
                    packetsReceived: traffic?.packetsReceived ?? 0,
                    bytesReceived: traffic?.bytesReceived ?? 0,
                    destination: engine.linkDestination(id).map { "\($0)" },
                    local: address,
                    interface: interface
                )
            )
        }
        var classes: [ClassStatusSnapshot] = []
        for (i, cls) in engine.configuration.classes.enumerated() {
            let c = engine.counters(forClass: i)
            classes.append(
                ClassStatusSnapshot(
                    name: cls.name,
                    links: engine.choice(forClass: i).links,  // link ids, best first
                    sent: c.sent,
                    delivered: c.delivered,
                    recovered: c.recoveredByFEC,
                    rebuiltEarly: c.rebuiltBeforeOriginal,
                    duplicates: c.duplicatesDropped,
                    held: c.held,
                    holdDropped: c.holdDropped,
                    late: engine.reorderCounters(forClass: i)?.late ?? 0,
                    wirePackets: c.wirePackets,
                    wireBytes: c.wireBytes
                )
            )
        }
        var drops: [String: UInt64] = [:]
        for reason in EngineDropReason.allCases where engine.drops[reason.rawValue] > 0 {
            drops["\(reason)"] = engine.drops[reason.rawValue]
        }
        return TunnelStatus(
            peer: peer,
            established: engine.isEstablished,
            innerMTU: engine.innerMTU,
            handshakes: engine.handshakesCompleted,
            rekeys: engine.rekeys,
            links: links,
            classes: classes,
            drops: drops
        )
    }
}
