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
