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
        let at = packet.readerIndex
        guard let first = packet.getInteger(at: at, as: UInt8.self) else { return false }
        let tcpOffset: Int
        let ipv6: Bool
        switch first >> 4 {
        case 4:
            let ihl = Int(first & 0x0F) * 4
            guard ihl >= 20, packet.getInteger(at: at + 9, as: UInt8.self) == 6,
                let fragment = packet.getInteger(at: at + 6, as: UInt16.self), fragment & 0x1FFF == 0
            else { return false }
            tcpOffset = at + ihl
            ipv6 = false
        case 6:
            // Only a TCP header directly after the fixed header; SYNs with extension headers are rare
            // and left alone.
            guard packet.getInteger(at: at + 6, as: UInt8.self) == 6 else { return false }
            tcpOffset = at + 40
            ipv6 = true
        default:
            return false
        }
        guard let dataOffsetByte = packet.getInteger(at: tcpOffset + 12, as: UInt8.self),
            let flags = packet.getInteger(at: tcpOffset + 13, as: UInt8.self), flags & 0x02 != 0,
            let checksum = packet.getInteger(at: tcpOffset + 16, as: UInt16.self)
        else { return false }
        let headerLength = Int(dataOffsetByte >> 4) * 4
        guard headerLength >= 20, tcpOffset + headerLength <= packet.writerIndex else { return false }
        let limit = mss(forMTU: mtu, ipv6: ipv6)
        // Walk the options (RFC 9293 §3.1): kind 0 end, 1 no-op, else kind, length, value.
        var option = tcpOffset + 20
        let end = tcpOffset + headerLength
        while option < end {
            guard let kind = packet.getInteger(at: option, as: UInt8.self) else { return false }
            if kind == 0 { return false }
            if kind == 1 {
                option += 1
                continue
            }
            guard option + 1 < end, let length = packet.getInteger(at: option + 1, as: UInt8.self), length >= 2,
                option + Int(length) <= end
            else { return false }
            if kind == 2 && length == 4 {
                guard let current = packet.getInteger(at: option + 2, as: UInt16.self) else { return false }
                guard current > limit else { return false }
                packet.setInteger(limit, at: option + 2)
                packet.setInteger(InternetChecksum.update(checksum, old: current, new: limit), at: tcpOffset + 16)
                return true
            }
            option += Int(length)
        }
        return false
    }
}
