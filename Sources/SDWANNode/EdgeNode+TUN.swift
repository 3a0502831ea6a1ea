import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO

/// L3 mode on the edge: the TUN device facing the branch LAN (docs/operations.md, "TUN mode").
/// Packets read from it enter the engine with their headroom (built in place, no copy); the
/// engine classifies them, clamps SYNs' MSS and answers oversize ones with ICMP "too big", which
/// comes back as a delivery and is written into the TUN toward the sender.
extension EdgeNode {
    /// Opens and configures the TUN device of `ingress.tun`, if any (on the event loop).
    func openTUN() throws {
        guard let settings = configuration.tun else { return }
        let device = try TUNDevice.open(name: settings.name, mtu: settings.mtu, eventLoop: eventLoop) {
            [self] batch in tunBatch(batch)
        }
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
        tun = device
        logger.notice(
            "TUN device up",
            metadata: [
                "name": .string(device.name), "mtu": .string("\(settings.mtu)"),
                "inner_mtu": .string("\(engine.innerMTU)"),
                "addresses": .string(settings.addresses.map(\.description).joined(separator: " ")),
                "routes": .string(settings.routes.map(\.description).joined(separator: " ")),
            ]
        )
    }

    /// Packets from the LAN, one clock read per batch.
    func tunBatch(_ batch: TUNReadBatch) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        counters.tunIn &+= UInt64(batch.count)
        batch.drain { packet in engine.handleInnerPacket(packet, now: now) }
        drain(now: now)
    }

    /// Writes a delivery into the TUN unless it is a reply to one of this edge's UDP forwards.
    /// `false` when the caller should handle it (no TUN, or a forward's datagram).
    func deliverToTUN(_ delivery: Delivery) -> Bool {
        guard let tun else { return false }
        if !forwardSockets.isEmpty, let (_, destination, _) = ForwardPacket.unwrap(delivery.packet),
            destination.address == configuration.innerAddress
        {
            return false
        }
        if tun.write(delivery.packet) {
            counters.tunOut &+= 1
        } else {
            counters.count(.tunWriteFailed)
        }
        return true
    }
}
