import NIOCore

/// TCP MSS clamping (RFC 879 §4, RFC 6691): a SYN crossing the tunnel has its MSS option lowered
/// to what fits the inner MTU, so TCP never sends segments the tunnel would have to refuse. The
/// checksum is updated incrementally (RFC 1624), the packet edited in place.
public enum MSSClamp {
    /// The MSS that fits an inner MTU: MTU − IP header (20 for IPv4, 40 for IPv6) − TCP header (20).
    public static func mss(forMTU mtu: Int, ipv6: Bool) -> UInt16 {
        UInt16(clamping: mtu - (ipv6 ? 40 : 20) - 20)
    }

    /// Clamps the MSS option of a TCP SYN (or SYN-ACK) in `packet` to at most the MSS for `mtu`.
    /// Returns `true` when the option was lowered. Non-TCP packets, non-SYN segments, later
    /// fragments and malformed headers are left untouched.
    @discardableResult
    public static func clamp(_ packet: inout ByteBuffer, mtu: Int) -> Bool {
        // Every TCP packet the engine sends passes here: the headers are read in one raw access
        // (NIO's getInteger checks bounds and exclusivity per field, ~10 fields per packet), and
        // only a SYN whose option needs lowering is written.
        let found: (tcp: Int, option: Int, current: UInt16, checksum: UInt16, limit: UInt16)? =
            packet.withFieldReader { r in
                guard let first = r.get(at: 0, as: UInt8.self) else { return nil }
                let tcpOffset: Int
                let ipv6: Bool
                switch first >> 4 {
                case 4:
                    let ihl = Int(first & 0x0F) * 4
                    guard ihl >= 20, r.get(at: 9, as: UInt8.self) == 6,
                        let fragment = r.get(at: 6, as: UInt16.self), fragment & 0x1FFF == 0
                    else { return nil }
                    tcpOffset = ihl
                    ipv6 = false
                case 6:
                    // Only a TCP header directly after the fixed header; SYNs with extension
                    // headers are rare and left alone.
                    guard r.get(at: 6, as: UInt8.self) == 6 else { return nil }
                    tcpOffset = 40
                    ipv6 = true
                default:
                    return nil
                }
                guard let dataOffsetByte = r.get(at: tcpOffset + 12, as: UInt8.self),
                    let flags = r.get(at: tcpOffset + 13, as: UInt8.self), flags & 0x02 != 0,
                    let checksum = r.get(at: tcpOffset + 16, as: UInt16.self)
                else { return nil }
                let headerLength = Int(dataOffsetByte >> 4) * 4
                guard headerLength >= 20, tcpOffset + headerLength <= r.bytes.count else { return nil }
                let limit = mss(forMTU: mtu, ipv6: ipv6)
                // Walk the options (RFC 9293 §3.1): kind 0 end, 1 no-op, else kind, length, value.
                var option = tcpOffset + 20
                let end = tcpOffset + headerLength
                while option < end {
                    guard let kind = r.get(at: option, as: UInt8.self), kind != 0 else { return nil }
                    if kind == 1 {
                        option += 1
                        continue
                    }
                    guard option + 1 < end, let length = r.get(at: option + 1, as: UInt8.self).map(Int.init),
                        length >= 2, option + length <= end
                    else { return nil }
                    if kind == 2 && length == 4 {
                        guard let current = r.get(at: option + 2, as: UInt16.self), current > limit else { return nil }
                        return (tcpOffset, option, current, checksum, limit)
                    }
                    option += length
                }
                return nil
            }
        guard let found else { return false }
        let at = packet.readerIndex
        packet.setInteger(found.limit, at: at + found.option + 2)
        packet.setInteger(
            InternetChecksum.update(found.checksum, old: found.current, new: found.limit),
            at: at + found.tcp + 16
        )
        return true
    }
}
