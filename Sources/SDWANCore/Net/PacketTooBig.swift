import NIOCore

/// "Fragmentation needed" (ICMP, RFC 792 + RFC 1191 §4) and "Packet Too Big" (ICMPv6, RFC 4443
/// §3.2) messages for inner packets that exceed the tunnel's inner MTU, so senders learn the path
/// MTU instead of meeting a black hole. The engine rate-limits how many it sends.
public enum PacketTooBig {
    /// The reply to send back to `packet`'s source, from `routerAddress` (the tunnel interface's
    /// address of the same family), or `nil` when no ICMP error may be sent: the packet is itself an
    /// ICMP error (RFC 1122 §3.2.2, RFC 4443 §2.4 (e)), is not IPv4/IPv6, or its source is
    /// unspecified or multicast.
    public static func reply(to packet: ByteBuffer, mtu: Int, routerAddress: IPAddress) -> ByteBuffer? {
        guard let header = InnerPacketHeader.parse(packet) else { return nil }
        switch (header.source, routerAddress) {
        case (.v4(let source), .v4(let router)):
            guard source != 0, source >> 28 != 0xE, source != .max else { return nil }
            if header.transportProtocol == 1, let type = icmpType(packet, header: header),
                [3, 4, 5, 11, 12].contains(type)
            {
                return nil
            }
            return ipv4Reply(packet, source: source, router: router, mtu: mtu)
        case (.v6(let sh, let sl), .v6(let rh, let rl)):
            guard sh != 0 || sl != 0, sh >> 56 != 0xFF else { return nil }
            if header.transportProtocol == 58, let type = icmpType(packet, header: header), type < 128 { return nil }
            return ipv6Reply(packet, source: (sh, sl), router: (rh, rl), mtu: mtu)
        default:
            return nil
        }
    }

    private static func icmpType(_ packet: ByteBuffer, header: InnerPacketHeader) -> UInt8? {
        let at = packet.readerIndex
        switch header.source {
        case .v4:
            let ihl = Int(packet.getInteger(at: at, as: UInt8.self)! & 0x0F) * 4
            return packet.getInteger(at: at + ihl, as: UInt8.self)
        case .v6:
            return packet.getInteger(at: at + 40, as: UInt8.self)
        }
    }

    /// RFC 1812 §4.3.2.3: quote as much of the original as fits in 576 bytes.
    private static func ipv4Reply(_ packet: ByteBuffer, source: UInt32, router: UInt32, mtu: Int) -> ByteBuffer {
        let quoted = min(packet.readableBytes, 576 - 28)
        var reply = ByteBufferAllocator().buffer(capacity: 28 + quoted)
        reply.writeInteger(UInt8(0x45))
        reply.writeInteger(UInt8(0xC0))  // CS6, as routers mark network control
        reply.writeInteger(UInt16(28 + quoted))
        reply.writeInteger(UInt16(0))
        reply.writeInteger(UInt16(0x4000))  // DF
        reply.writeInteger(UInt8(64))
        reply.writeInteger(UInt8(1))
        reply.writeInteger(UInt16(0))
        reply.writeInteger(router)
        reply.writeInteger(source)
        reply.setInteger(InternetChecksum.finish(InternetChecksum.sum(reply, at: 0, length: 20)), at: 10)
        reply.writeInteger(UInt8(3))  // destination unreachable
        reply.writeInteger(UInt8(4))  // fragmentation needed and DF set
        reply.writeInteger(UInt16(0))
        reply.writeInteger(UInt16(0))
        reply.writeInteger(UInt16(clamping: mtu))  // RFC 1191 §4: next-hop MTU
        reply.writeImmutableBuffer(packet.getSlice(at: packet.readerIndex, length: quoted)!)
        let sum = InternetChecksum.sum(reply, at: 20, length: 8 + quoted)
        reply.setInteger(InternetChecksum.finish(sum), at: 22)
        return reply
    }

    /// RFC 4443 §3.2: quote as much of the original as fits in the IPv6 minimum MTU (1280).
    private static func ipv6Reply(
        _ packet: ByteBuffer,
        source: (UInt64, UInt64),
        router: (UInt64, UInt64),
        mtu: Int
    ) -> ByteBuffer {
        let quoted = min(packet.readableBytes, 1280 - 48)
        let payloadLength = 8 + quoted
        var reply = ByteBufferAllocator().buffer(capacity: 40 + payloadLength)
        reply.writeInteger(UInt32(6) << 28 | UInt32(0xC0) << 20)
        reply.writeInteger(UInt16(payloadLength))
        reply.writeInteger(UInt8(58))
        reply.writeInteger(UInt8(255))
        reply.writeMultipleIntegers(router.0, router.1, source.0, source.1)
        reply.writeInteger(UInt8(2))  // packet too big
        reply.writeInteger(UInt8(0))
        reply.writeInteger(UInt16(0))
        reply.writeInteger(UInt32(clamping: mtu))
        reply.writeImmutableBuffer(packet.getSlice(at: packet.readerIndex, length: quoted)!)
        // RFC 8200 §8.1 pseudo-header: source, destination, upper-layer length, next header.
        var pseudo = InternetChecksum.sum(reply, at: 8, length: 32)
        pseudo += UInt32(payloadLength) + 58
        let sum = InternetChecksum.sum(reply, at: 40, length: payloadLength, initial: pseudo)
        reply.setInteger(InternetChecksum.finish(sum), at: 42)
        return reply
    }
}
