import NIOCore

/// What the classifier and cryptokey routing read from an inner IP packet, parsed in place from the
/// buffer without allocation. RFC 791 (IPv4), RFC 8200 (IPv6, §4 extension headers), RFC 2474
/// (DSCP: the upper six bits of the TOS / Traffic Class byte).
public struct InnerPacketHeader: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// Differentiated Services code point, 0–63.
    public var dscp: UInt8
    /// The transport protocol (IPv4 protocol / IPv6 upper-layer next header), e.g. 6 TCP, 17 UDP.
    public var transportProtocol: UInt8
    /// Ports for TCP, UDP, SCTP and UDP-Lite, when present in this (first) fragment.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    public init(
        source: IPAddress,
        destination: IPAddress,
        dscp: UInt8,
        transportProtocol: UInt8,
        sourcePort: UInt16? = nil,
        destinationPort: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.dscp = dscp
        self.transportProtocol = transportProtocol
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    /// Parses the packet at the buffer's reader index; `nil` when it is not a well-formed IPv4 or
    /// IPv6 header (the caller counts it and uses the default class). One raw access for the whole
    /// header (`withFieldReader`): NIO's checked `getInteger` per field cost more than the rest of
    /// classification.
    public static func parse(_ packet: ByteBuffer) -> InnerPacketHeader? {
        packet.withFieldReader { r in
            guard let first = r.get(at: 0, as: UInt8.self) else { return nil }
            switch first >> 4 {
            case 4: return parseV4(r, first: first)
            case 6: return parseV6(r)
            default: return nil
            }
        }
    }

    private static func parseV4(_ r: FieldReader, first: UInt8) -> InnerPacketHeader? {
        let headerLength = Int(first & 0x0F) * 4
        guard headerLength >= 20, r.bytes.count >= headerLength,
            let tos = r.get(at: 1, as: UInt8.self),
            let flagsFragment = r.get(at: 6, as: UInt16.self),
            let proto = r.get(at: 9, as: UInt8.self),
            let source = r.get(at: 12, as: UInt32.self),
            let destination = r.get(at: 16, as: UInt32.self)
        else { return nil }
        var header = InnerPacketHeader(
            source: .v4(source),
            destination: .v4(destination),
            dscp: tos >> 2,
            transportProtocol: proto
        )
        // Ports only in the first fragment (fragment offset 0).
        if flagsFragment & 0x1FFF == 0 { header.readPorts(r, at: headerLength) }
        return header
    }

    private static func parseV6(_ r: FieldReader) -> InnerPacketHeader? {
        guard r.bytes.count >= 40, let word = r.get(at: 0, as: UInt32.self),
            var next = r.get(at: 6, as: UInt8.self),
            let sh = r.get(at: 8, as: UInt64.self),
            let sl = r.get(at: 16, as: UInt64.self),
            let dh = r.get(at: 24, as: UInt64.self),
            let dl = r.get(at: 32, as: UInt64.self)
        else { return nil }
        let trafficClass = UInt8(truncatingIfNeeded: word >> 20)
        var offset = 40
        var firstFragment = true
        // RFC 8200 §4: walk hop-by-hop (0), routing (43), fragment (44), destination options (60),
        // at most 8 headers, to the upper-layer header.
        for _ in 0..<8 {
            switch next {
            case 0, 43, 60:
                guard let nh = r.get(at: offset, as: UInt8.self),
                    let len = r.get(at: offset + 1, as: UInt8.self)
                else { return nil }
                next = nh
                offset += (Int(len) + 1) * 8
            case 44:
                guard let nh = r.get(at: offset, as: UInt8.self),
                    let fragment = r.get(at: offset + 2, as: UInt16.self)
                else { return nil }
                next = nh
                firstFragment = fragment >> 3 == 0
                offset += 8
            default:
                var header = InnerPacketHeader(
                    source: .v6(high: sh, low: sl),
                    destination: .v6(high: dh, low: dl),
                    dscp: trafficClass >> 2,
                    transportProtocol: next
                )
                if firstFragment { header.readPorts(r, at: offset) }
                return header
            }
        }
        return nil
    }

    private mutating func readPorts(_ r: FieldReader, at offset: Int) {
        switch transportProtocol {
        case 6, 17, 132, 136:
            sourcePort = r.get(at: offset, as: UInt16.self)
            destinationPort = r.get(at: offset + 2, as: UInt16.self)
            if destinationPort == nil { sourcePort = nil }
        default:
            break
        }
    }
}
