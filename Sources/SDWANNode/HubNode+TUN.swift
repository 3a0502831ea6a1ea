import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO

/// L3 mode on the hub: the TUN device facing the data centre (docs/operations.md, "TUN mode").
/// Packets read from it are routed to a branch by its allowed prefixes (cryptokey routing, in the
/// endpoint); branch packets that are not forward datagrams are written into it.
///
/// A packet larger than its branch's inner MTU is answered here, not in the branch's engine: the
/// engine's reply would come back as that branch's delivery, whose source (the hub's TUN address)
/// cryptokey routing refuses as spoofed.
extension HubNode {
    /// Opens and configures the TUN device of `ingress.tun`, if any (on the event loop).
    func openTUN() throws {
        guard let settings = configuration.tun else { return }
        tun = try openConfiguredTUN(
            settings,
            eventLoop: eventLoop,
            logger: logger,
            onBatch: { [self] batch in tunBatch(batch) }
        )
    }

    /// Packets from the data centre, one clock read per batch.
    func tunBatch(_ batch: TUNReadBatch) {
        guard !stopped else { return }
        let now = Clocks.monotonic()
        counters.batches &+= 1
        counters.tunIn &+= UInt64(batch.count)
        batch.drain { packet in
            if let mtu = branchInnerMTU(of: packet), packet.readableBytes > mtu {
                answerTooBig(packet, mtu: mtu, now: now)
                return
            }
            hub.handleInnerPacket(packet, now: now)
        }
        drain(now: now)
    }

    /// The inner MTU of the branch the packet is routed to (longest allowed prefix, as the
    /// endpoint routes), or `nil` when it routes nowhere (the endpoint counts that).
    func branchInnerMTU(of packet: ByteBuffer) -> Int? {
        guard packet.readableBytes > Self.smallestInnerMTU, let header = InnerPacketHeader.parse(packet)
        else { return nil }
        var best: (name: String, length: Int)?
        for branch in configuration.branches {
            for prefix in branch.allowedPrefixes where prefix.contains(header.destination) {
                if best == nil || prefix.length > best!.length { best = (branch.name, prefix.length) }
            }
        }
        return best.flatMap { hub.engine(forBranch: $0.name)?.innerMTU }
    }

    /// No branch's inner MTU is below this: the hub clamps announced link MTUs to ≥ 576, and an
    /// IPv6 outer header is the larger; smaller packets skip the lookup.
    static let smallestInnerMTU = 576 - WireFormat.outerIPv6UDPLength - TUNConfig.tunnelOverhead

    /// A rate-limited ICMP "fragmentation needed" / "packet too big" toward the sender
    /// (RFC 1191 §4, RFC 4443 §3.2), from the TUN's address of the packet's family.
    func answerTooBig(_ packet: ByteBuffer, mtu: Int, now: Instant) {
        counters.count(.tunOversize)
        guard let tun, tooBig.allow(now: now), let header = InnerPacketHeader.parse(packet),
            let router = configuration.tun?.routerAddress(v4: header.source.isV4),
            let reply = PacketTooBig.reply(to: packet, mtu: mtu, routerAddress: router)
        else { return }
        if tun.write(reply) {
            counters.tooBigSent &+= 1
            counters.tunOut &+= 1
        } else {
            counters.count(.tunWriteFailed)
        }
    }

    /// Writes a delivery into the TUN unless it is a forward datagram to an allowed UDP target.
    /// `false` when the caller should handle it (no TUN, or a forward's datagram).
    func deliverToTUN(_ delivery: Delivery) -> Bool {
        guard let tun else { return false }
        if !configuration.udpTargets.allowed.isEmpty, let (_, target, _) = ForwardPacket.unwrap(delivery.packet),
            configuration.udpTargets.allowed.contains(target)
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

/// A token bucket for ICMP errors (RFC 1812 §4.3.2.8, RFC 4443 §2.4 (f)): `perSecond` on average,
/// bursts of `perSecond`.
struct TooBigLimiter {
    var perSecond: Double = 10
    var tokens: Double = 10
    var refilled: Instant?

    mutating func allow(now: Instant) -> Bool {
        if let refilled { tokens = min(perSecond, tokens + (now - refilled).seconds * perSecond) }
        refilled = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
