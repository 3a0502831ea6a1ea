import Dispatch
import Logging
import NIOCore
import SDWANConfig
import SDWANIO

/// Opens the TUN device of `ingress.tun` and gives it its MTU, addresses and routes — the same on
/// edge and hub (docs/operations.md, "TUN mode"). The device is closed again when the setup
/// fails; warnings are logged, and one notice names what was set up, with `metadata` added.
func openConfiguredTUN(
    _ settings: TUNConfig,
    eventLoop: EventLoop,
    logger: Logger,
    metadata: Logger.Metadata = [:],
    onBatch: @escaping @Sendable (TUNReadBatch) -> Void
) throws -> TUNDevice {
    let device = try TUNDevice.open(name: settings.name, mtu: settings.mtu, eventLoop: eventLoop, onBatch: onBatch)
    do {
        let warnings = try TUNInterface.configure(
            name: device.name,
            mtu: settings.mtu,
            addresses: settings.addresses,
            routes: settings.routes
        )
        for warning in warnings { logger.warning("\(warning)") }
    } catch {
        device.close()
        throw error
    }
    var fields: Logger.Metadata = [
        "name": .string(device.name), "mtu": .string("\(settings.mtu)"),
        "addresses": .string(settings.addresses.map(\.description).joined(separator: " ")),
        "routes": .string(settings.routes.map(\.description).joined(separator: " ")),
    ]
    fields.merge(metadata) { _, new in new }
    logger.notice("TUN device up", metadata: fields)
    return device
}

/// A reload's TUN settings (docs/operations.md "Reload"): new addresses and routes are applied
/// live — on the hub that routes a branch added by the reload into the device — with `ip` run off
/// the event loop; a new name or MTU, or a TUN device added or removed, takes effect at restart
/// (the running values stay in the returned settings). Returns the settings now in force and the
/// reload-log lines, one per change and one per `ip` command that failed.
func reconfigureTUN(
    running: TUNConfig?,
    new: TUNConfig?,
    device: TUNDevice?,
    eventLoop: EventLoop
) -> EventLoopFuture<(settings: TUNConfig?, lines: [String])> {
    guard running != new else { return eventLoop.makeSucceededFuture((running, [])) }
    guard let running, let new, device != nil else {
        return eventLoop.makeSucceededFuture((running, ["tun device added or removed: takes effect at restart"]))
    }
    var effective = new
    var lines: [String] = []
    keepRunningValue(\.name, named: "tun name", running: running, in: &effective, notes: &lines)
    keepRunningValue(\.mtu, named: "tun MTU", running: running, in: &effective, notes: &lines)
    if new.mtu != running.mtu { effective.mtuIsExplicit = running.mtuIsExplicit }
    let commands = TUNInterface.changeCommands(
        name: running.name,
        addresses: (running.addresses, new.addresses),
        routes: (running.routes, new.routes)
    )
    guard !commands.isEmpty else { return eventLoop.makeSucceededFuture((effective, lines)) }
    let addedRoutes = new.routes.filter { !running.routes.contains($0) }
    let removedRoutes = running.routes.filter { !new.routes.contains($0) }
    if !addedRoutes.isEmpty || !removedRoutes.isEmpty {
        lines.append(
            "tun routes changed: "
                + (addedRoutes.map { "+\($0)" } + removedRoutes.map { "-\($0)" }).joined(separator: " ")
        )
    }
    if new.addresses != running.addresses { lines.append("tun addresses changed") }
    // Each `ip` is a fork and exec: off the event loop, which keeps forwarding meanwhile.
    let promise = eventLoop.makePromise(of: [String].self)
    DispatchQueue.global().async { promise.succeed(TUNInterface.runAll(commands)) }
    let settled = effective
    let changes = lines
    return promise.futureResult.map { failures in
        (settled, changes + failures.map { "tun: \($0)" })
    }
}
