import Logging
import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO

/// The tunnel to one hub of the edge's list: its engine (session and monitors of every link, aimed
/// at this hub's endpoints) and the link histograms /metrics exports under `peer=<hub>`.
final class HubTunnel {
    var peer: HubPeerConfig
    let engine: TunnelEngine
    var histograms: LinkHistograms

    var name: String { peer.name }

    init(configuration: EdgeConfig, hub: Int, session: EdgeSession, now: Instant) {
        peer = configuration.hubs[hub]
        engine = TunnelEngine(
            configuration: configuration.engineConfiguration(hub: hub),
            keys: .edge(session),
            now: now,
            wallTime: Clocks.wall(),
            random: SystemRandomSource()
        )
        histograms = LinkHistograms(links: configuration.links.count)
    }

    /// Whether traffic could leave through this tunnel now: it has keys and one of `links` is
    /// `up` or `degraded` (the monitor waited its detection window before `down`). Scans the
    /// configuration's array: no allocation per batch.
    func isUsable(links: [NodeLinkConfig]) -> Bool {
        guard engine.isEstablished else { return false }
        for link in links {
            switch engine.linkStatus(link.id) {
            case .up, .degraded: return true
            case .probing, .down, nil: continue
            }
        }
        return false
    }
}

/// Hubs (docs/operations.md "Failover between hubs"). Design: every hub's tunnel shares the link
/// sockets — one socket per link, datagrams demultiplexed by their source endpoint, which is the
/// hub's endpoint for that link (`check` refuses two hubs at one endpoint on a link). One socket
/// per link keeps one SO_BINDTODEVICE binding, one NAT mapping per hub and the interface watch
/// per link; a datagram from any other source is dropped and counted (`unknown_hub_source`).
extension EdgeNode {
    /// The engine of the tunnel new inner packets go to (the active hub; the first before any is
    /// usable). Forwards and TUN ingress call this.
    var engine: TunnelEngine { tunnels[hubSelector.target].engine }

    /// The session of `configuration.hubs[hub]` (reads the key files).
    static func session(_ configuration: EdgeConfig, hub: Int) throws -> EdgeSession {
        let key = try configuration.privateKey.privateKey(
            configFile: configuration.file,
            field: "identity.private_key_file"
        )
        let peer = configuration.hubs[hub]
        let psk =
            try peer.presharedKey?.presharedKey(configFile: configuration.file, field: configuration.hubPSKField(hub))
            ?? PresharedKey.none()
        return EdgeSession(localStatic: key, hubPublicKey: peer.publicKey, presharedKey: psk)
    }

    /// The tunnel whose hub sends from `source` on link `id` (a short scan: a few hubs).
    func tunnel(from source: UDPEndpoint, link id: UInt8) -> HubTunnel? {
        let slot = linkSlot[Int(id)]
        guard slot >= 0 else { return nil }
        let link = configuration.links[slot]
        for tunnel in tunnels where tunnel.peer.endpoint(for: link) == source { return tunnel }
        return nil
    }

    /// The earliest deadline of every tunnel and of the hub selector's hold-down.
    func nextDeadline() -> Instant? {
        var earliest = hubSelector.nextDeadline()
        for tunnel in tunnels {
            guard let deadline = tunnel.engine.nextDeadline() else { continue }
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    /// Re-runs the hub choice (after every batch: a few booleans) and logs a switch.
    func selectHub(now: Instant) {
        guard let change = hubSelector.update(usable: { tunnels[$0].isUsable(links: configuration.links) }, now: now)
        else { return }
        var metadata: Logger.Metadata = [
            "hub": .string(tunnels[change.to].name), "reason": .string("\(change.reason)"),
            "hold_down": .string("\(hubSelector.holdDown)"),
        ]
        if let from = change.from { metadata["from"] = .string(tunnels[from].name) }
        logger.notice("active hub changed", metadata: metadata)
    }
}
