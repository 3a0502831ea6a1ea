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
        tun = try openConfiguredTUN(
            settings,
            eventLoop: eventLoop,
            logger: logger,
            metadata: ["inner_mtu": .string("\(engine.innerMTU)")],
            onBatch: { [self] batch in tunBatch(batch) }
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
