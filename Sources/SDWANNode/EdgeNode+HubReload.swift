import SDWANConfig
import SDWANCore
import SDWANIO

/// Reload of the hub list (docs/operations.md "Reload"): hubs are matched by name. A kept hub
/// keeps its tunnel (session, monitors, counters) and takes new endpoints through
/// `TunnelEngine.apply`; a hub whose public key or PSK changed, and a new hub, get a new tunnel
/// that starts its handshake at once; a removed hub's tunnel is dropped. The selector follows the
/// active hub by name, or re-chooses at once when it was removed.
extension EdgeNode {
    /// A new session for every hub of `new` that needs a new tunnel (`nil`: the running tunnel is
    /// kept). Reads key files, so a missing one refuses the reload before anything changes.
    func newHubSessions(_ new: EdgeConfig) throws -> [EdgeSession?] {
        try new.hubs.indices.map { h in
            let peer = new.hubs[h]
            if let running = tunnels.first(where: { $0.name == peer.name }),
                running.peer.publicKey == peer.publicKey, running.peer.presharedKey == peer.presharedKey
            {
                return nil
            }
            return try Self.session(new, hub: h)
        }
    }

    /// Rebuilds `tunnels` in the new order. Returns the log lines and which tunnels are new (they
    /// were created with the new configuration already).
    func swapTunnels(to new: EdgeConfig, sessions: [EdgeSession?], now: Instant) -> ([String], [Bool]) {
        var lines: [String] = []
        var next: [HubTunnel] = []
        var map: [Int?] = []
        var fresh: [Bool] = []
        for (h, peer) in new.hubs.enumerated() {
            let before = tunnels.firstIndex { $0.name == peer.name }
            if let session = sessions[h] {
                let tunnel = HubTunnel(configuration: new, hub: h, session: session, now: now)
                tunnel.engine.start(now: now, wallTime: Clocks.wall())
                next.append(tunnel)
                map.append(nil)
                fresh.append(true)
                lines.append(before == nil ? "hub \(peer.name) added" : "hub \(peer.name) keys changed: new tunnel")
            } else if let before {
                let tunnel = tunnels[before]
                let moved = new.links.contains { tunnel.peer.endpoint(for: $0) != peer.endpoint(for: $0) }
                if moved { lines.append("hub \(peer.name) endpoints changed") }
                tunnel.peer = peer
                next.append(tunnel)
                map.append(before)
                fresh.append(false)
            }
        }
        for tunnel in tunnels where !new.hubs.contains(where: { $0.name == tunnel.name }) {
            lines.append("hub \(tunnel.name) removed")
        }
        let keptOrder = map.compactMap { $0 }
        if keptOrder != keptOrder.sorted() { lines.append("hub order changed") }
        if new.hubSelection != hubSelector.configuration {
            lines.append("hub hold-down changed")
            hubSelector.configuration = new.hubSelection
        }
        tunnels = next
        hubSelector.relist(map)
        return (lines, fresh)
    }
}
