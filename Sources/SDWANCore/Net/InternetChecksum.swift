import NIOCore

/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624 §3, eqn. 3).
public enum InternetChecksum {
    /// One's-complement sum of `length` bytes at `offset`, folded to 16 bits (not complemented),
    /// starting from `initial` (e.g. a pseudo-header sum).
    public static func sum(_ buffer: ByteBuffer, at offset: Int, length: Int, initial: UInt32 = 0) -> UInt32 {
        var total = UInt64(initial)
        buffer.withUnsafeReadableBytes { raw in
            let start = offset - buffer.readerIndex
            var i = start
            let end = start + length
            while i + 1 < end {
                total &+= UInt64(raw[i]) << 8 | UInt64(raw[i + 1])
                i += 2
            }
            if i < end { total &+= UInt64(raw[i]) << 8 }
        }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return UInt32(total)
    }

    /// The checksum field value for data whose folded sum is `sum`.
    public static func finish(_ sum: UInt32) -> UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return ~UInt16(s)
    }

    /// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), after a 16-bit field changed from `old` to `new`.
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        var sum = UInt32(~checksum) + UInt32(~old) + UInt32(new)
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
