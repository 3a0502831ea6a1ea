import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO

/// Why a reload was refused (the running configuration is kept).
public struct ReloadRefused: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension EdgeNode {
    /// Applies a new configuration live (SIGHUP; docs/operations.md "Reload"). New links get their
    /// sockets first; only when every one is open are the tables swapped, the engine given the new
    /// links and classes (`TunnelEngine.apply`: no new handshake, unchanged classes keep their
    /// state) and the sockets of removed links closed, between two batches on the event loop. A
    /// socket that cannot be opened refuses the whole reload. Returns one line per change.
    ///
    /// Live: links (added, removed, changed; a changed local address or interface gets a new
    /// socket), hubs (added, removed, reordered, endpoints changed; a hub whose key or PSK changed
    /// gets a new tunnel and handshake: EdgeNode+HubReload.swift), the hub hold-down, classes and
    /// rules, the inner address, each forward's target, class and limits. At restart (logged, the
    /// running value kept): identity, forwards added, removed or moved to another listen address,
    /// the status address.
    public func apply(_ new: EdgeConfig) -> EventLoopFuture<[String]> {
        eventLoop.flatSubmit { [self] in
            guard !stopped else { return eventLoop.makeFailedFuture(ReloadRefused("the node is stopping")) }
            let effective: EdgeConfig
            var lines: [String] = []
            let sessions: [EdgeSession?]
            do {
                effective = try keepRestartOnlyFields(new, notes: &lines)
                sessions = try newHubSessions(effective)
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
            let old = configuration
            // Sockets: reuse a link's socket when its id, local address and interface stay.
            var reused: [UDPLinkSocket?] = []
            var keptSlots = Set<Int>()
            for link in effective.links {
                let before = old.links.firstIndex { $0.id == link.id }
                if let before, old.links[before].local == link.local, old.links[before].interface == link.interface,
                    let socket = linkSockets[before]
                {
                    reused.append(socket)
                    keptSlots.insert(before)
                } else {
                    reused.append(nil)
                }
            }
            let isOpening = reused.map { $0 == nil }
            // Sockets never share a port (no SO_REUSEADDR: two nodes configured with one port
            // would split its datagrams), so an explicit address an old socket holds and no kept
            // link uses (a link renumbered, or moved to another interface) is released first. If
            // the reload is then refused, the old link's socket is rebuilt (SocketRebuild).
            let released = old.links.indices.filter { j in
                !keptSlots.contains(j) && linkSockets[j] != nil && old.links[j].local.port != 0
                    && effective.links.indices.contains {
                        isOpening[$0] && effective.links[$0].local == old.links[j].local
                    }
            }
            let closing = released.map { j in
                let socket = linkSockets[j]!
                linkSockets[j] = nil
                return socket.close()
            }
            reloadOpening = true
            let notes = lines
            let newSessions = NIOLoopBound(sessions, eventLoop: eventLoop)
            return EventLoopFuture.whenAllComplete(closing, on: eventLoop).flatMap { [self] _ in
                let opened = effective.links.indices.filter { isOpening[$0] }.map { openLink(effective.links[$0]) }
                return EventLoopFuture.whenAllComplete(opened, on: eventLoop)
            }.flatMap { [self, reused] results in
                // A refused reload keeps the old links: those whose sockets it released are rebuilt.
                func restoreReleased() {
                    let now = Clocks.monotonic()
                    for j in released {
                        lostLinks[old.links[j].id, default: SocketRebuild(endpoint: old.links[j].local)].schedule(
                            now: now
                        )
                    }
                }
                var sockets = reused
                var failure: Error?
                var next = 0
                for i in sockets.indices where isOpening[i] {
                    switch results[next] {
                    case .success(let socket): sockets[i] = socket
                    case .failure(let error): failure = failure ?? error
                    }
                    next += 1
                }
                if let failure {
                    for case .success(let socket) in results { _ = socket.close() }
                    reloadOpening = false
                    restoreReleased()
                    return eventLoop.makeFailedFuture(ReloadRefused("a link socket could not be opened: \(failure)"))
                }
                guard !stopped else {
                    for case .success(let socket) in results { _ = socket.close() }
                    reloadOpening = false
                    return eventLoop.makeFailedFuture(ReloadRefused("the node is stopping"))
                }
                let opened = sockets
                return reconfigureTUN(running: configuration.tun, new: effective.tun, device: tun, eventLoop: eventLoop)
                    .flatMapThrowing { [self] tunSettings, tunLines in
                        // The new table goes in before the socket checks resume (a released slot
                        // must not be reopened at its old address meanwhile).
                        defer { reloadOpening = false }
                        guard !stopped else {
                            for case .success(let socket) in results { _ = socket.close() }
                            throw ReloadRefused("the node is stopping")
                        }
                        var applied = effective
                        applied.tun = tunSettings
                        return notes + tunLines
                            + swapTables(to: applied, sockets: opened, sessions: newSessions.value)
                    }
            }
        }
    }

    /// The new configuration with the fields that need a restart kept at their running values.
    private func keepRestartOnlyFields(_ new: EdgeConfig, notes: inout [String]) throws -> EdgeConfig {
        let old = configuration
        var effective = new
        keepRunningValue(\.privateKey, named: "identity", running: old, in: &effective, notes: &notes)
        keepRunningValue(\.statusListen, named: "status address", running: old, in: &effective, notes: &notes)
        let sameForwards =
            new.forwards.map(\.name) == old.forwards.map(\.name)
            && new.forwards.map(\.listen) == old.forwards.map(\.listen)
        if !sameForwards {
            notes.append("forwards added, removed or moved: take effect at restart")
            // The running forwards keep their class by name in the new table.
            effective.forwards = try old.forwards.map { forward in
                guard let index = new.classes.classes.firstIndex(where: { $0.name == forward.className }) else {
                    throw ReloadRefused(
                        "forward \(forward.name) uses class \(forward.className), which the new table lacks"
                    )
                }
                var kept = forward
                kept.classIndex = index
                return kept
            }
        } else {
            for (a, b) in zip(old.forwards, new.forwards)
            where a.target != b.target || a.className != b.className || a.maxFlows != b.maxFlows
                || a.idleTimeout != b.idleTimeout
            {
                notes.append("forward \(b.name) changed")
            }
        }
        return effective
    }

    /// Swaps link tables, applies the engine configuration and closes what is no longer used.
    private func swapTables(to new: EdgeConfig, sockets: [UDPLinkSocket?], sessions: [EdgeSession?]) -> [String] {
        let old = configuration
        let now = Clocks.monotonic()
        for tunnel in tunnels {
            var histogramsAfter = LinkHistograms(links: new.links.count)
            for (i, link) in new.links.enumerated() {
                guard let before = old.links.firstIndex(where: { $0.id == link.id }) else { continue }
                histogramsAfter.rtt[i] = tunnel.histograms.rtt[before]
                histogramsAfter.jitterTx[i] = tunnel.histograms.jitterTx[before]
                histogramsAfter.jitterRx[i] = tunnel.histograms.jitterRx[before]
            }
            tunnel.histograms = histogramsAfter
        }
        // Flush what the old tables hold before they change shape, then close what is not kept.
        drain(now: now)
        let keep = Set(sockets.compactMap { $0.map(ObjectIdentifier.init) })
        for socket in linkSockets.compactMap({ $0 }) where !keep.contains(ObjectIdentifier(socket)) {
            _ = socket.close()
        }
        linkSockets = sockets
        outgoing = Array(repeating: [], count: new.links.count)
        linkSlot = [Int](repeating: -1, count: 256)
        for (i, link) in new.links.enumerated() { linkSlot[Int(link.id)] = i }
        configuration = new
        var (lines, fresh) = swapTunnels(to: new, sessions: sessions, now: now)
        // Every kept tunnel gets the new links and classes; the first kept one's change is logged
        // (they differ only in destinations).
        var change: EngineConfigurationChange?
        for (h, tunnel) in tunnels.enumerated() where !fresh[h] {
            let applied = tunnel.engine.apply(new.engineConfiguration(hub: h), now: now)
            change = change ?? applied
        }
        drain(now: now)
        guard let change else { return lines }
        let name: (UInt8, [NodeLinkConfig]) -> String = { id, list in
            list.first { $0.id == id }?.name ?? "link\(id)"
        }
        lines += change.linksAdded.map { "link \(name($0, new.links)) added" }
        lines += change.linksRemoved.map { "link \(name($0, old.links)) removed" }
        lines += change.linksChanged.map { id in
            "link \(name(id, new.links)) changed"
                + (change.linksProbeSettingsAtRestart.contains(id) ? " (probe settings take effect at restart)" : "")
        }
        for link in new.links {
            guard let before = old.links.first(where: { $0.id == link.id }),
                before.local != link.local || before.interface != link.interface
            else { continue }
            lines.append("link \(link.name) moved to a new socket")
        }
        lines += ReloadLog.classLines(change)
        if old.innerAddress != new.innerAddress { lines.append("inner address changed") }
        return lines
    }
}

/// The reload log's wording of an engine change.
enum ReloadLog {
    static func classLines(_ change: EngineConfigurationChange) -> [String] {
        var lines = change.classesAdded.map { "class \($0) added" }
        lines += change.classesRemoved.map { "class \($0) removed" }
        lines += change.classesChanged.map { "class \($0) changed" }
        if change.rulesChanged { lines.append("classification rules changed") }
        if change.tunnelSettingsChanged { lines.append("tunnel settings changed") }
        return lines
    }
}
