import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// The I/O ring's clocks: the only place the live nodes read time. The ring reads the monotonic
/// clock once per event batch and hands the instant to the core.
public enum Clocks {
    /// `CLOCK_MONOTONIC` as an `Instant` (nanoseconds since boot; never jumps).
    public static func monotonic() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// `CLOCK_REALTIME` as a `WallTime`, for the handshake timestamp only.
    public static func wall() -> WallTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return WallTime(secondsSinceEpoch: Int64(ts.tv_sec), nanoseconds: UInt32(ts.tv_nsec))
    }
}
