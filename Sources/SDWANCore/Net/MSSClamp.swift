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
            packet.withUnsafeReadableBytes { raw in
                func byte(_ i: Int) -> UInt8? { i >= 0 && i < raw.count ? raw[i] : nil }
                func word(_ i: Int) -> UInt16? {
                    guard let high = byte(i), let low = byte(i + 1) else { return nil }
                    return UInt16(high) << 8 | UInt16(low)
                }
                guard let first = byte(0) else { return nil }
                let tcpOffset: Int
                let ipv6: Bool
                switch first >> 4 {
                case 4:
                    let ihl = Int(first & 0x0F) * 4
                    guard ihl >= 20, byte(9) == 6, let fragment = word(6), fragment & 0x1FFF == 0 else { return nil }
                    tcpOffset = ihl
                    ipv6 = false
                case 6:
                    // Only a TCP header directly after the fixed header; SYNs with extension
                    // headers are rare and left alone.
                    guard byte(6) == 6 else { return nil }
                    tcpOffset = 40
                    ipv6 = true
                default:
                    return nil
                }
                guard let dataOffsetByte = byte(tcpOffset + 12), let flags = byte(tcpOffset + 13), flags & 0x02 != 0,
                    let checksum = word(tcpOffset + 16)
                else { return nil }
                let headerLength = Int(dataOffsetByte >> 4) * 4
                guard headerLength >= 20, tcpOffset + headerLength <= raw.count else { return nil }
                let limit = mss(forMTU: mtu, ipv6: ipv6)
                // Walk the options (RFC 9293 §3.1): kind 0 end, 1 no-op, else kind, length, value.
                var option = tcpOffset + 20
                let end = tcpOffset + headerLength
                while option < end {
                    let kind = raw[option]
                    if kind == 0 { return nil }
                    if kind == 1 {
                        option += 1
                        continue
                    }
                    guard option + 1 < end else { return nil }
                    let length = Int(raw[option + 1])
                    guard length >= 2, option + length <= end else { return nil }
                    if kind == 2 && length == 4 {
                        guard let current = word(option + 2), current > limit else { return nil }
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
