/// Round-trip time of one link: RFC 6298 smoothing, minimum and percentiles over a sample window.
///
/// Samples come from probe replies (STAMP, RFC 8762: RTT = (T4 − T1) − (T3 − T2)) and from the
/// timestamp echo of receiver reports (RTT = now − echoed timestamp − hold time, as RTCP's DLSR),
/// so a busy link with probes suppressed keeps its estimate.
public struct RTTEstimator: Sendable {
    /// RFC 6298 §2 SRTT and RTTVAR, nanoseconds; `nil` before the first sample.
    public private(set) var smoothed: TimeSpan?
    public private(set) var variation: TimeSpan?
    /// The newest sample.
    public private(set) var latest: TimeSpan?
    /// Samples accepted so far.
    public private(set) var sampleCount: Int = 0
    private var window: [Int64]
    private var next = 0
    private var filled = 0

    /// An estimator keeping the last `windowSize` samples for the minimum and the percentiles.
    public init(windowSize: Int = 256) {
        precondition(windowSize > 0, "the RTT window holds at least one sample")
        window = [Int64](repeating: 0, count: windowSize)
    }

    /// Adds a sample. RFC 6298 §2.2 for the first, §2.3 after: RTTVAR is updated first, with the
    /// *old* SRTT (RTTVAR ← 3/4·RTTVAR + 1/4·|SRTT − R|), then SRTT ← 7/8·SRTT + 1/8·R.
    public mutating func add(_ sample: TimeSpan) {
        precondition(sample.nanoseconds >= 0, "callers drop negative RTT samples")
        if let srtt = smoothed, let rttvar = variation {
            let deviation = abs(srtt.nanoseconds - sample.nanoseconds)
            variation = TimeSpan(nanoseconds: (3 * rttvar.nanoseconds + deviation) / 4)
            smoothed = TimeSpan(nanoseconds: (7 * srtt.nanoseconds + sample.nanoseconds) / 8)
        } else {
            smoothed = sample
            variation = sample / 2
        }
        latest = sample
        sampleCount += 1
        window[next] = sample.nanoseconds
        next = (next + 1) % window.count
        filled = min(filled + 1, window.count)
    }

    /// The minimum over the sample window.
    public var minimum: TimeSpan? {
        guard filled > 0 else { return nil }
        var low = Int64.max
        for i in 0..<filled { low = min(low, window[i]) }
        return TimeSpan(nanoseconds: low)
    }

    /// The `q` quantile (0…1) over the sample window, nearest-rank. Sorts a copy: for reports,
    /// not for the packet path.
    public func percentile(_ q: Double) -> TimeSpan? {
        guard filled > 0 else { return nil }
        let sorted = window[0..<filled].sorted()
        let rank = min(filled - 1, max(0, Int((q * Double(filled)).rounded(.up)) - 1))
        return TimeSpan(nanoseconds: sorted[rank])
    }
}
