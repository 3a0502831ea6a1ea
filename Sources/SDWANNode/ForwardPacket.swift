import NIOCore
import SDWANCore

/// The minimal IPv4/UDP (or IPv6/UDP) header a UDP port forward wraps its payload in, so the hub
/// learns the target and the client flow and cryptokey routing still applies (docs/operations.md,
/// "UDP port forwards", address plan):
///
/// - edge → hub: source = the branch's inner address : the flow's port (one per client address and
///   port on the edge), destination = the forward's target;
/// - hub → edge: source = the target, destination = the branch's inner address : the flow's port.
///
/// IPv4 (RFC 791 §3.1) with a correct header checksum and a zero UDP checksum (RFC 768: "all zero
/// … no checksum"; the tunnel's AEAD already protects the bytes). IPv6 (RFC 8200 §3) must carry
/// a UDP checksum (RFC 8200 §8.1), computed over the pseudo-header.
enum ForwardPacket {
    static let ipv4HeaderLength = 20
    static let ipv6HeaderLength = 40
    static let udpHeaderLength = 8

    /// The header length for a family.
    static func overhead(v4: Bool) -> Int { (v4 ? ipv4HeaderLength : ipv6HeaderLength) + udpHeaderLength }

    /// `payload` wrapped in IP/UDP from `source` to `destination` (same family), written into a
    /// fresh buffer from `allocator`.
    static func wrap(
        _ payload: ByteBuffer,
        source: UDPEndpoint,
        destination: UDPEndpoint,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: overhead(v4: source.address.isV4) + payload.readableBytes)
        let udpLength = udpHeaderLength + payload.readableBytes
        switch (source.address, destination.address) {
        case (.v4(let s), .v4(let d)):
            buffer.writeInteger(UInt8(0x45))
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(truncatingIfNeeded: ipv4HeaderLength + udpLength))
            buffer.writeInteger(UInt16(0))  // identification
            buffer.writeInteger(UInt16(0x4000))  // DF, offset 0
            buffer.writeInteger(UInt8(64))  // TTL
            buffer.writeInteger(UInt8(17))  // UDP
            buffer.writeInteger(UInt16(0))  // checksum, filled below
            buffer.writeInteger(s)
            buffer.writeInteger(d)
            let sum = InternetChecksum.finish(InternetChecksum.sum(buffer, at: buffer.readerIndex, length: 20))
            buffer.setInteger(sum, at: buffer.readerIndex + 10)
            writeUDP(&buffer, source.port, destination.port, udpLength, checksum: 0)
            buffer.writeImmutableBuffer(payload)
        case (.v6(let sh, let sl), .v6(let dh, let dl)):
            buffer.writeInteger(UInt32(0x6000_0000))
            buffer.writeInteger(UInt16(truncatingIfNeeded: udpLength))
            buffer.writeInteger(UInt8(17))
            buffer.writeInteger(UInt8(64))
            for word in [sh, sl, dh, dl] { buffer.writeInteger(word) }
            let udpStart = buffer.writerIndex
            writeUDP(&buffer, source.port, destination.port, udpLength, checksum: 0)
            buffer.writeImmutableBuffer(payload)
            // RFC 8200 §8.1 pseudo-header: addresses, upper-layer length, next header.
            var pseudo = InternetChecksum.sum(buffer, at: buffer.readerIndex + 8, length: 32)
            pseudo &+= UInt32(udpLength >> 16) &+ UInt32(udpLength & 0xFFFF) &+ 17
            var checksum = InternetChecksum.finish(
                InternetChecksum.sum(buffer, at: udpStart, length: udpLength, initial: pseudo)
            )
            if checksum == 0 { checksum = 0xFFFF }
            buffer.setInteger(checksum, at: udpStart + 6)
        default:
            preconditionFailure("forward endpoints of one family")
        }
        return buffer
    }

    private static func writeUDP(_ buffer: inout ByteBuffer, _ s: UInt16, _ d: UInt16, _ length: Int, checksum: UInt16)
    {
        buffer.writeInteger(s)
        buffer.writeInteger(d)
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        buffer.writeInteger(checksum)
    }

    /// The endpoints and payload of a wrapped datagram; `nil` when it is not UDP, is a fragment
    /// or its lengths do not add up.
    static func unwrap(_ packet: ByteBuffer) -> (source: UDPEndpoint, destination: UDPEndpoint, payload: ByteBuffer)? {
        guard let header = InnerPacketHeader.parse(packet), header.transportProtocol == 17,
            let sourcePort = header.sourcePort, let destinationPort = header.destinationPort,
            let first = packet.getInteger(at: packet.readerIndex, as: UInt8.self)
        else { return nil }
        let ipLength: Int
        if header.source.isV4 {
            ipLength = Int(first & 0x0F) * 4
        } else {
            // Only a UDP header directly after the fixed header (what `wrap` writes).
            guard packet.getInteger(at: packet.readerIndex + 6, as: UInt8.self) == 17 else { return nil }
            ipLength = ipv6HeaderLength
        }
        guard let udpLength = packet.getInteger(at: packet.readerIndex + ipLength + 4, as: UInt16.self),
            Int(udpLength) >= udpHeaderLength, packet.readableBytes >= ipLength + Int(udpLength),
            let payload = packet.getSlice(
                at: packet.readerIndex + ipLength + udpHeaderLength,
                length: Int(udpLength) - udpHeaderLength
            )
        else { return nil }
        return (
            UDPEndpoint(address: header.source, port: sourcePort),
            UDPEndpoint(address: header.destination, port: destinationPort), payload
        )
    }
}
