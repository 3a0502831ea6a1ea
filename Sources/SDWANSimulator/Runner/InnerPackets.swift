import NIOCore
import SDWANCore

/// The inner packets the traffic sources write: IPv4 with a UDP or TCP header, then a 20-byte
/// marker the receiving side reads back — flow id, sequence, send instant, aux — so delivery,
/// one-way delay and gaps are measured on the packets themselves, with no lookup table.
///
/// Addresses: branch b's LAN is 10.(b+1).0.0/16 (its allowed prefix at the hub), the data centre
/// is 10.200.0.0/16.
enum InnerPackets {
    /// Marker layout after the L4 header: flow id (bit 31: an acknowledgement), sequence, send
    /// instant (ns), aux (transactions: 1 on a request's last packet).
    static let markerLength = 20
    static let ackBit: UInt32 = 1 << 31

    static func branchHost(_ b: Int) -> UInt32 { 0x0A00_0005 | UInt32(b + 1) << 16 }
    static let dataCentreHost: UInt32 = 0x0AC8_0009

    static func branchPrefix(_ b: Int) -> IPPrefix {
        IPPrefix(address: .v4(0x0A00_0000 | UInt32(b + 1) << 16), length: 16)!
    }

    /// The smallest packet a flow may ask for.
    static func minimumSize(ipProtocol: UInt8) -> Int { 20 + l4Length(ipProtocol) + markerLength }

    static func l4Length(_ ipProtocol: UInt8) -> Int { ipProtocol == 6 ? 20 : 8 }

    /// Writes one packet of `size` bytes (IP total length).
    static func make(
        size requested: Int,
        dscp: UInt8,
        ipProtocol: UInt8,
        source: UInt32,
        destination: UInt32,
        port: UInt16,
        flow: UInt32,
        sequence: UInt32,
        sentAt: Instant,
        aux: UInt32 = 0,
        pool: inout PacketPool
    ) -> ByteBuffer {
        let size = max(requested, minimumSize(ipProtocol: ipProtocol))
        // Headroom and tailroom as the live nodes' I/O ring leaves them: the engine builds the
        // datagram around the packet in place instead of allocating and copying.
        var b = pool.take(capacity: TunnelEngine.headroom + size + TunnelEngine.tailroom)
        b.moveWriterIndex(forwardBy: TunnelEngine.headroom)
        b.moveReaderIndex(forwardBy: TunnelEngine.headroom)
        // One raw write of the whole packet: NIO's writeInteger costs an exclusivity check and a
        // capacity check per field, ~12 % of a simulation's instructions for these few bytes. The
        // writer index moves first and the bytes are set in place (`writeWithUnsafeMutableBytes`
        // sliced its pointer through an unspecialised `dropFirst`).
        let l4 = l4Length(ipProtocol)
        b.moveWriterIndex(forwardBy: size)
        b.withUnsafeMutableReadableBytes { raw in
            func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
                raw.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
            }
            // Headers and marker zeroed, then written; the filler after them is left as it is
            // (a recycled buffer's old bytes, deterministic like everything else in a run: nothing
            // reads them, and zeroing every packet's filler cost 0.28 % of a simulation's instructions).
            raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: 20 + l4 + markerLength)
            put(UInt8(0x45), 0)
            put(dscp << 2, 1)
            put(UInt16(size), 2)
            put(UInt16(truncatingIfNeeded: sequence), 4)
            put(UInt16(0x4000), 6)
            put(UInt8(64), 8)
            put(ipProtocol, 9)
            put(source, 12)
            put(destination, 16)
            put(UInt16(40_000 + flow % 20_000), 20)
            put(port, 22)
            if ipProtocol == 6 {
                // TCP with only ACK set: no SYN, so the engine's MSS clamp leaves it alone.
                put(sequence, 24)
                put(UInt16(0x5010), 32)
                put(UInt16(65_535), 34)
            } else {
                put(UInt16(size - 20), 24)
            }
            let m = 20 + l4
            put(flow, m)
            put(sequence, m + 4)
            put(sentAt.nanoseconds, m + 8)
            put(aux, m + 16)
        }
        return b
    }

    /// The marker of a delivered packet, or `nil` for a packet the sources did not write.
    static func marker(of packet: ByteBuffer) -> (flow: UInt32, sequence: UInt32, sentAt: Instant, aux: UInt32)? {
        // One raw access (NIO's getInteger checks every field; this runs for every delivery).
        packet.withUnsafeReadableBytes { raw in
            func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T? {
                guard offset >= 0, offset + MemoryLayout<T>.size <= raw.count else { return nil }
                return T(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            guard let proto = get(9, UInt8.self) else { return nil }
            let m = 20 + l4Length(proto)
            guard let flow = get(m, UInt32.self), let sequence = get(m + 4, UInt32.self),
                let sent = get(m + 8, Int64.self), let aux = get(m + 16, UInt32.self)
            else { return nil }
            return (flow, sequence, Instant(nanoseconds: sent), aux)
        }
    }
}
