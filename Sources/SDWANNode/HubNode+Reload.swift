import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO

extension HubNode {
    /// Applies a new configuration live (SIGHUP; docs/operations.md "Reload"). PSK files of new or
    /// changed branches are read and new listen addresses bound first; a failure refuses the whole
    /// reload. Then, between two batches on the event loop: removed branches lose their sessions,
    /// changed ones keep theirs (new allowed prefixes route and filter from the next packet, new
    /// classes through `TunnelEngine.apply`), new ones can handshake; removed listen addresses are
    /// closed. Returns one line per change.
    ///
    /// At restart (logged, the running value kept): identity, the status address.
    public func apply(_ new: HubConfig) -> EventLoopFuture<[String]> {
        eventLoop.flatSubmit { [self] in
            guard !stopped else { return eventLoop.makeFailedFuture(ReloadRefused("the node is stopping")) }
            var lines: [String] = []
            var effective = new
            let running = configuration
            keepRunningValue(\.privateKey, named: "identity", running: running, in: &effective, notes: &lines)
            keepRunningValue(\.statusListen, named: "status address", running: running, in: &effective, notes: &lines)
            // Every PSK is read before anything changes (a missing or unsafe file refuses the reload).
            do {
                for (i, branch) in new.branches.enumerated() {
                    _ = try branch.presharedKey?.presharedKey(configFile: new.file, field: "branches[\(i)].psk_file")
                }
            } catch {
                return eventLoop.makeFailedFuture(ReloadRefused("\(error)"))
            }
            let added = new.listen.filter { !listenAddresses.contains($0) }
            let firstSlot = listeners.count
            let opening = added.enumerated().map { openListener(firstSlot + $0.offset, $0.element) }
            let notes = lines
            let target = effective
            return EventLoopFuture.whenAllComplete(opening, on: eventLoop).flatMap { [self] results in
                let failure = results.lazy.compactMap { result -> Error? in
                    if case .failure(let error) = result { return error }
                    return nil
                }.first
                if failure != nil || stopped {
                    for case .success(let socket) in results { _ = socket.close() }
                    return eventLoop.makeFailedFuture(
                        ReloadRefused(failure.map { "a listen address could not be bound: \($0)" } ?? "stopping")
                    )
                }
                for case .success(let socket) in results {
                    listeners.append(socket)
                    outgoing.append([])
                }
                listenAddresses += added
                let opened = added.map { "listen \($0) added" }
                return reconfigureTUN(running: configuration.tun, new: target.tun, device: tun, eventLoop: eventLoop)
                    .map { [self] tunSettings, tunLines in
                        var applied = target
                        applied.tun = tunSettings
                        return notes + opened + tunLines + swapBranches(to: applied)
                    }
            }
        }
    }

    /// Closes removed listeners and applies the branch table, rules and limits.
    private func swapBranches(to new: HubConfig) -> [String] {
        let old = configuration
        let now = Clocks.monotonic()
        drain(now: now)
        var lines: [String] = []
        for (slot, address) in listenAddresses.enumerated() {
            guard let address, !new.listen.contains(address) else { continue }
            _ = listeners[slot]?.close()
            listeners[slot] = nil
            listenAddresses[slot] = nil
            lines.append("listen \(address) removed")
        }
        for branch in old.branches {
            let kept = new.branches.first { $0.name == branch.name }
            guard kept == nil || kept!.publicKey != branch.publicKey else { continue }
            hub.removeBranch(named: branch.name)
            lines.append(kept == nil ? "branch \(branch.name) removed" : "branch \(branch.name) has a new key")
        }
        for (i, branch) in new.branches.enumerated() {
            let field = "branches[\(i)].psk_file"
            let psk: PresharedKey
            do {
                psk = try branch.presharedKey?.presharedKey(configFile: new.file, field: field) ?? PresharedKey.none()
            } catch {
                // Read a moment ago; a file that vanished since keeps the branch as it was.
                lines.append("branch \(branch.name): \(error); kept as it was")
                continue
            }
            let configuration = HubBranchConfiguration(
                name: branch.name,
                publicKey: branch.publicKey,
                allowedPrefixes: branch.allowedPrefixes,
                engine: new.engineConfiguration
            )
            if let previous = hub.branchConfiguration(named: branch.name) {
                guard let change = hub.updateBranch(configuration, presharedKey: psk, now: now) else { continue }
                if previous.allowedPrefixes != branch.allowedPrefixes {
                    lines.append("branch \(branch.name) allowed prefixes changed")
                }
                lines += ReloadLog.classLines(change).map { "branch \(branch.name): \($0)" }
            } else {
                hub.addBranch(configuration, presharedKey: psk, now: now, wallTime: Clocks.wall())
                lines.append("branch \(branch.name) added")
            }
        }
        if new.forwarding != old.forwarding {
            hub.setForwardingRules(new.forwarding)
            lines.append("forwarding rules changed")
        }
        if new.udpTargets.allowed != old.udpTargets.allowed || new.udpTargets.maxFlows != old.udpTargets.maxFlows
            || new.udpTargets.idleTimeout != old.udpTargets.idleTimeout
        {
            flowTable.maxFlows = new.udpTargets.maxFlows
            lines.append("udp_targets changed")
        }
        configuration = new
        drain(now: now)
        return lines
    }
}
