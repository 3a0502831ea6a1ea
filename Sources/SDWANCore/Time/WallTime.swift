/// Wall-clock time, which the core never reads: the shell passes it in where a protocol needs it.
///
/// The only user is the handshake initiation's anti-replay timestamp (WireGuard's TAI64N: the
/// responder keeps the greatest timestamp seen per peer and refuses anything not newer). The
/// simulator passes a virtual wall time derived from its virtual clock.
public struct WallTime: Hashable, Comparable, Sendable {
    /// Seconds since the Unix epoch (1970-01-01T00:00:00Z, UTC, no leap seconds).
    public var secondsSinceEpoch: Int64
    /// Nanoseconds within the second, 0 ..< 1_000_000_000.
    public var nanoseconds: UInt32

    public init(secondsSinceEpoch: Int64, nanoseconds: UInt32) {
        precondition(nanoseconds < 1_000_000_000, "nanoseconds must be below one second")
        self.secondsSinceEpoch = secondsSinceEpoch
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: WallTime, rhs: WallTime) -> Bool {
        (lhs.secondsSinceEpoch, lhs.nanoseconds) < (rhs.secondsSinceEpoch, rhs.nanoseconds)
    }

    /// The TAI64N label (https://cr.yp.to/libtai/tai64.html): 8 bytes of 2^62 + seconds, then
    /// 4 bytes of nanoseconds, both big-endian. The 10-second TAI−UTC offset of the format is not
    /// applied, as in WireGuard: only the ordering of one sender's labels matters.
    public var tai64n: [UInt8] {
        let label = UInt64(bitPattern: (1 << 62) &+ secondsSinceEpoch)
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: label >> (56 - 8 * UInt64(i))) }
        for i in 0..<4 { bytes[8 + i] = UInt8(truncatingIfNeeded: nanoseconds >> (24 - 8 * UInt32(i))) }
        return bytes
    }

    /// Parses a TAI64N label; `nil` when it is not 12 bytes or the nanoseconds are out of range.
    public init?(tai64n bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        var label: UInt64 = 0
        var nanos: UInt32 = 0
        for (i, byte) in bytes.enumerated() {
            if i < 8 { label = label << 8 | UInt64(byte) } else { nanos = nanos << 8 | UInt32(byte) }
        }
        guard nanos < 1_000_000_000 else { return nil }
        self.secondsSinceEpoch = Int64(bitPattern: label &- (1 << 62))
        self.nanoseconds = nanos
    }
}
